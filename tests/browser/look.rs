//! Looking at a page as its users would: axe-core, the widths, screenshots, print.

use super::*;

/// axe-core, injected into each page checked.
const AXE: &str = include_str!("../assets/axe.min.js");

// ----- axe ---------------------------------------------------------------------------------------

pub(crate) const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] })
  .then(function (r) {
    done({
      passes: r.passes.length,
      incomplete: r.incomplete.map(function (v) { return v.id; }),
      violations: r.violations.map(function (v) {
        return {
          id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
          nodes: v.nodes.map(function (n) {
            return { target: n.target, html: n.html, summary: n.failureSummary };
          })
        };
      })
    });
  })
  .catch(function (e) { done({ error: String((e && e.stack) || e) }); });
"#;

/// Runs axe on the page shown, prints what it found, and returns every violation, whatever
/// its impact, each described in full.
pub(crate) async fn axe(c: &Client, page: &str) -> Vec<String> {
    let loaded = c.execute("return typeof window.axe", vec![]).await.unwrap();
    if loaded != "object" {
        // The script runs as the body of WebDriver's function, which the page's CSP does not
        // govern.
        let kind = c
            .execute(&format!("{AXE}\n;return typeof window.axe;"), vec![])
            .await
            .unwrap_or_else(|e| panic!("injecting axe into {page}: {e}"));
        assert_eq!(kind, "object", "axe did not load on {page}");
    }
    let result = c
        .execute_async(AXE_RUN, vec![])
        .await
        .unwrap_or_else(|e| panic!("running axe on {page}: {e}"));
    if let Some(err) = result.get("error") {
        panic!("axe failed on {page}: {err}");
    }
    assert!(
        result["passes"].as_u64().is_some_and(|n| n > 0),
        "axe checked nothing on {page}: {result}"
    );
    let violations = result["violations"].as_array().cloned().unwrap_or_default();
    println!(
        "axe on {page}: {} rules passed, {} violated, incomplete (needs review): {}",
        result["passes"],
        violations.len(),
        result["incomplete"]
    );
    let mut found = Vec::new();
    for v in &violations {
        let text = describe(page, v);
        println!("{text}");
        found.push(text);
    }
    found
}

pub(crate) fn describe(page: &str, v: &Value) -> String {
    let mut s = format!(
        "  [{}] {} on {page}: {} ({})",
        v["impact"].as_str().unwrap_or("?"),
        v["id"].as_str().unwrap_or("?"),
        v["help"].as_str().unwrap_or(""),
        v["helpUrl"].as_str().unwrap_or("")
    );
    for n in v["nodes"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "\n      target {}\n        html {}\n        {}",
            n["target"],
            n["html"].as_str().unwrap_or(""),
            n["summary"]
                .as_str()
                .unwrap_or("")
                .replace('\n', "\n        ")
        ));
    }
    s
}

// ----- looking at a page as its users would ------------------------------------------------

/// The widths every page is looked at: a desktop and a phone (an iPhone 12 to 15 is 390 px).
pub(crate) const WIDTHS: [u32; 2] = [1280, 390];

/// Where the screenshots go, kept for people to look at after a run.
pub(crate) fn screens_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screens");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Resizes the browser's window so that the page's viewport is `width` px wide.
pub(crate) async fn set_width(c: &Client, width: u32) {
    c.set_window_size(width, 900).await.unwrap();
    let inner = c.execute("return window.innerWidth", vec![]).await.unwrap();
    let inner = inner.as_u64().unwrap_or(0);
    if inner != u64::from(width) && inner > 0 {
        // The window's frame takes some of it: grow the window by the difference.
        let frame = u64::from(width)
            .saturating_sub(inner)
            .max(inner.saturating_sub(u64::from(width)));
        let outer = if inner < u64::from(width) {
            u64::from(width) + frame
        } else {
            u64::from(width) - frame
        };
        c.set_window_size(outer as u32, 900).await.unwrap();
    }
}

/// A file name for a page's description.
pub(crate) fn slug(page: &str) -> String {
    let mut s = String::new();
    for ch in page.chars() {
        if ch.is_ascii_alphanumeric() {
            s.push(ch.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-').to_string()
}

/// Looks at the page shown as its users would: axe-core checks it against WCAG 2.1 A and AA
/// (every violation counts, whatever its impact), and at each of `WIDTHS` a screenshot is kept
/// and the page must fit the viewport (`document.documentElement.scrollWidth <= innerWidth`).
/// Returns what is wrong, each described in full; the window is left 1280 px wide.
pub(crate) async fn look(c: &Client, page: &str) -> Vec<String> {
    let mut found = axe(c, page).await;
    for width in WIDTHS {
        set_width(c, width).await;
        let sizes = c
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth]",
                vec![],
            )
            .await
            .unwrap();
        let (scroll, inner) = (sizes[0].as_u64().unwrap(), sizes[1].as_u64().unwrap());
        if scroll > inner {
            let wide = c
                .execute(WIDEST, vec![])
                .await
                .unwrap_or_else(|_| json!("?"));
            found.push(format!(
                "  {page} is {scroll} px wide in a {inner} px viewport; widest elements: {wide}"
            ));
        }
        let png = c.screenshot().await.unwrap();
        assert!(png.len() > 1000, "an empty screenshot of {page}");
        let file = screens_dir().join(format!("{}-{width}.png", slug(page)));
        std::fs::write(&file, png).unwrap();
    }
    set_width(c, WIDTHS[0]).await;
    found
}

/// The elements that stick out to the right of the viewport, for a failure's message.
pub(crate) const WIDEST: &str = r#"
const out = [];
for (const el of document.querySelectorAll('body *')) {
  const r = el.getBoundingClientRect();
  if (r.right > window.innerWidth + 1) {
    out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
      ' right=' + Math.round(r.right));
  }
  if (out.length >= 8) break;
}
return out;
"#;

/// Switches the page's CSS media to print (or back to screen) through Chromium's DevTools
/// protocol, as the print preview would lay it out.
pub(crate) async fn print_media(c: &Client, driver: &str, print: bool) {
    let session = c.session_id().await.unwrap().expect("a WebDriver session");
    let url = format!("{driver}/session/{session}/goog/cdp/execute");
    let media = if print { "print" } else { "" };
    let res = reqwest::Client::new()
        .post(&url)
        .json(&json!({ "cmd": "Emulation.setEmulatedMedia", "params": { "media": media } }))
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success(),
        "chromedriver refused print media: {}",
        res.text().await.unwrap_or_default()
    );
}

/// A screenshot of the page as printed (print media), kept beside the others; returns what
/// the printed page shows of `selector` (its visible text), so a test can say what prints.
pub(crate) async fn print_shot(c: &Client, driver: &str, page: &str, selector: &str) -> String {
    print_media(c, driver, true).await;
    set_width(c, 816).await; // US Letter at 96 dpi
    let png = c.screenshot().await.unwrap();
    let file = screens_dir().join(format!("{}-print.png", slug(page)));
    std::fs::write(&file, png).unwrap();
    let shown = css(c, selector).await.text().await.unwrap();
    print_media(c, driver, false).await;
    set_width(c, WIDTHS[0]).await;
    shown
}
