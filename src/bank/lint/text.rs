//! Words, and where a part of an item was written.

use std::collections::HashMap;

use crate::bank::{BankFiles, Item, Source};

/// The lower-cased words of `text` (letters, digits and inner apostrophes or hyphens).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’' || c == '-'))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('’', "'"))
        .collect()
}

/// How many words `text` has.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// The files' text by path, to find the line a part of an item starts on.
pub struct Lines<'a> {
    by_path: HashMap<&'a str, &'a str>,
}

impl<'a> Lines<'a> {
    pub fn new(files: &'a BankFiles) -> Self {
        Lines {
            by_path: files
                .items
                .iter()
                .chain(&files.vignettes)
                .map(|f| (f.path.as_str(), f.text.as_str()))
                .collect(),
        }
    }

    fn text(&self, path: &str) -> Option<&'a str> {
        self.by_path.get(path).copied()
    }

    /// The first line (1-based) at or after `from` for which `want` holds, if any.
    fn find(&self, path: &str, from: usize, want: impl Fn(&str) -> bool) -> Option<usize> {
        let text = self.text(path)?;
        text.lines()
            .enumerate()
            .skip(from.saturating_sub(1))
            .find(|(_, l)| want(l))
            .map(|(i, _)| i + 1)
    }

    /// The line of section `## name`, or the file's first line.
    pub fn section(&self, item_source: &Source, name: &str) -> Source {
        let heading = format!("## {name}");
        let line = self
            .find(&item_source.path, 1, |l| l.trim_end() == heading)
            .unwrap_or(item_source.line);
        Source::new(item_source.path.clone(), line)
    }

    /// The first line of section `## name`'s text.
    pub fn section_text(&self, item_source: &Source, name: &str) -> Source {
        let at = self.section(item_source, name);
        let line = self
            .find(&at.path, at.line + 1, |l| !l.trim().is_empty())
            .unwrap_or(at.line);
        Source::new(at.path, line)
    }

    /// The line of option `letter` of a multiple-choice item.
    pub fn option(&self, item: &Item, letter: char) -> Source {
        let options = self.section(&item.source, "Options");
        let prefix = format!("{letter}.");
        let line = self
            .find(&item.source.path, options.line + 1, |l| {
                l.trim_start().starts_with(&prefix)
            })
            .unwrap_or(options.line);
        Source::new(item.source.path.clone(), line)
    }

    /// The last line of section `## name` holding `word` as a whole word (the question of a
    /// stem comes last), else the section's first line of text.
    pub fn last_in_section(&self, item_source: &Source, name: &str, word: &str) -> Source {
        let start = self.section_text(item_source, name);
        let line = self.text(&start.path).and_then(|text| {
            text.lines()
                .enumerate()
                .skip(start.line - 1)
                .take_while(|(_, l)| !l.starts_with("## "))
                .filter(|(_, l)| l.split(|c: char| !c.is_alphanumeric()).any(|w| w == word))
                .map(|(i, _)| i + 1)
                .last()
        });
        Source::new(start.path, line.unwrap_or(start.line))
    }

    /// The first line of file `path` holding `word` as a whole word, else its first line.
    pub fn first_word(&self, path: &str, word: &str) -> Source {
        let line = self
            .find(path, 1, |l| {
                l.split(|c: char| !c.is_alphanumeric()).any(|w| w == word)
            })
            .unwrap_or(1);
        Source::new(path, line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_and_keep_inner_apostrophes() {
        assert_eq!(
            words("He's 18-month-old; \"Wonder\" (together)!"),
            vec!["he's", "18-month-old", "wonder", "together"]
        );
        assert_eq!(words("the baby’s cry"), vec!["the", "baby's", "cry"]);
    }
}
