//! Generalizability theory for a fully crossed random p × r × q design: persons × raters ×
//! questions, one score per cell. The G study estimates the seven variance components by the
//! ANOVA (expected mean squares) method; the D study turns them into the relative and absolute
//! error variances, the generalizability coefficient Eρ² and the dependability index Φ for any
//! number of raters and questions (Brennan 2001, chapters 3-4; Shavelson & Webb 1991).

use serde::Serialize;

use super::ratio;

/// The fewest levels of each facet: with one level a facet has no variance to estimate.
pub const MIN_LEVELS: usize = 2;

/// The seven effects of the p × r × q design, in Brennan's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Person,
    Rater,
    Question,
    PersonRater,
    PersonQuestion,
    RaterQuestion,
    /// The three-way interaction confounded with the residual: pr q,e.
    Residual,
}

impl Effect {
    pub const ALL: [Effect; 7] = [
        Effect::Person,
        Effect::Rater,
        Effect::Question,
        Effect::PersonRater,
        Effect::PersonQuestion,
        Effect::RaterQuestion,
        Effect::Residual,
    ];

    /// Brennan's notation: p, r, q, pr, pq, rq, prq,e.
    pub fn label(self) -> &'static str {
        match self {
            Effect::Person => "p",
            Effect::Rater => "r",
            Effect::Question => "q",
            Effect::PersonRater => "pr",
            Effect::PersonQuestion => "pq",
            Effect::RaterQuestion => "rq",
            Effect::Residual => "prq,e",
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GError {
    #[error(
        "a G study needs at least {MIN_LEVELS} persons, raters and questions; \
         got {persons} × {raters} × {questions}"
    )]
    TooFew {
        persons: usize,
        raters: usize,
        questions: usize,
    },
    #[error("{persons} × {raters} × {questions} cells expected, {got} scores given")]
    WrongLength {
        persons: usize,
        raters: usize,
        questions: usize,
        got: usize,
    },
    #[error("person {person}, rater {rater}, question {question} is outside the design")]
    OutOfRange {
        person: usize,
        rater: usize,
        question: usize,
    },
    #[error("person {person}, rater {rater}, question {question} has two scores")]
    Duplicate {
        person: usize,
        rater: usize,
        question: usize,
    },
    #[error(
        "person {person}, rater {rater}, question {question}: the score is not a finite number"
    )]
    NotFinite {
        person: usize,
        rater: usize,
        question: usize,
    },
    #[error(
        "the design is not fully crossed: {missing} cells have no score, the first being \
         person {person}, rater {rater}, question {question}"
    )]
    Missing {
        missing: usize,
        person: usize,
        rater: usize,
        question: usize,
    },
}

/// A complete persons × raters × questions table of scores, `scores[(p·n_r + r)·n_q + q]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Crossed {
    persons: usize,
    raters: usize,
    questions: usize,
    scores: Vec<f64>,
}

impl Crossed {
    /// From a dense array, person-major then rater then question.
    pub fn from_dense(
        persons: usize,
        raters: usize,
        questions: usize,
        scores: Vec<f64>,
    ) -> Result<Self, GError> {
        check_sizes(persons, raters, questions)?;
        let cells = persons * raters * questions;
        if scores.len() != cells {
            return Err(GError::WrongLength {
                persons,
                raters,
                questions,
                got: scores.len(),
            });
        }
        if let Some(i) = scores.iter().position(|x| !x.is_finite()) {
            let (person, rater, question) = split(i, raters, questions);
            return Err(GError::NotFinite {
                person,
                rater,
                question,
            });
        }
        Ok(Self {
            persons,
            raters,
            questions,
            scores,
        })
    }

    pub fn persons(&self) -> usize {
        self.persons
    }

    pub fn raters(&self) -> usize {
        self.raters
    }

    pub fn questions(&self) -> usize {
        self.questions
    }

    pub fn score(&self, person: usize, rater: usize, question: usize) -> f64 {
        self.scores[(person * self.raters + rater) * self.questions + question]
    }

    /// The G study: sums of squares in two passes (marginal means, then the residual), the
    /// mean squares and the seven variance components from their expected values.
    pub fn g_study(&self) -> GStudy {
        let (np, nr, nq) = (self.persons, self.raters, self.questions);
        let (fp, fr, fq) = (np as f64, nr as f64, nq as f64);
        let mut mpr = vec![0.0; np * nr];
        let mut mpq = vec![0.0; np * nq];
        let mut mrq = vec![0.0; nr * nq];
        for p in 0..np {
            for r in 0..nr {
                for q in 0..nq {
                    let x = self.score(p, r, q);
                    mpr[p * nr + r] += x;
                    mpq[p * nq + q] += x;
                    mrq[r * nq + q] += x;
                }
            }
        }
        let mut mp = vec![0.0; np];
        let mut mr = vec![0.0; nr];
        let mut mq = vec![0.0; nq];
        for p in 0..np {
            for r in 0..nr {
                mp[p] += mpr[p * nr + r];
                mr[r] += mpr[p * nr + r];
            }
        }
        for r in 0..nr {
            for q in 0..nq {
                mq[q] += mrq[r * nq + q];
            }
        }
        let total: f64 = mp.iter().sum();
        let mean = total / (fp * fr * fq);
        mpr.iter_mut().for_each(|x| *x /= fq);
        mpq.iter_mut().for_each(|x| *x /= fr);
        mrq.iter_mut().for_each(|x| *x /= fp);
        mp.iter_mut().for_each(|x| *x /= fr * fq);
        mr.iter_mut().for_each(|x| *x /= fp * fq);
        mq.iter_mut().for_each(|x| *x /= fp * fr);

        let sq = |x: f64| x * x;
        let ss_p = fr * fq * mp.iter().map(|&m| sq(m - mean)).sum::<f64>();
        let ss_r = fp * fq * mr.iter().map(|&m| sq(m - mean)).sum::<f64>();
        let ss_q = fp * fr * mq.iter().map(|&m| sq(m - mean)).sum::<f64>();
        let mut ss_pr = 0.0;
        for p in 0..np {
            for r in 0..nr {
                ss_pr += sq(mpr[p * nr + r] - mp[p] - mr[r] + mean);
            }
        }
        let mut ss_pq = 0.0;
        for p in 0..np {
            for q in 0..nq {
                ss_pq += sq(mpq[p * nq + q] - mp[p] - mq[q] + mean);
            }
        }
        let mut ss_rq = 0.0;
        for r in 0..nr {
            for q in 0..nq {
                ss_rq += sq(mrq[r * nq + q] - mr[r] - mq[q] + mean);
            }
        }
        let mut ss_e = 0.0;
        for p in 0..np {
            for r in 0..nr {
                for q in 0..nq {
                    ss_e += sq(self.score(p, r, q)
                        - mpr[p * nr + r]
                        - mpq[p * nq + q]
                        - mrq[r * nq + q]
                        + mp[p]
                        + mr[r]
                        + mq[q]
                        - mean);
                }
            }
        }
        let ss = [ss_p, ss_r, ss_q, fq * ss_pr, fr * ss_pq, fp * ss_rq, ss_e];
        let (dp, dr, dq) = (fp - 1.0, fr - 1.0, fq - 1.0);
        let df = [dp, dr, dq, dp * dr, dp * dq, dr * dq, dp * dr * dq];
        let ms: [f64; 7] = std::array::from_fn(|i| ss[i] / df[i]);
        let [ms_p, ms_r, ms_q, ms_pr, ms_pq, ms_rq, ms_e] = ms;
        // Expected mean squares of the random model (Brennan 2001, chapter 3), solved.
        let estimates = [
            (ms_p - ms_pr - ms_pq + ms_e) / (fr * fq),
            (ms_r - ms_pr - ms_rq + ms_e) / (fp * fq),
            (ms_q - ms_pq - ms_rq + ms_e) / (fp * fr),
            (ms_pr - ms_e) / fq,
            (ms_pq - ms_e) / fr,
            (ms_rq - ms_e) / fp,
            ms_e,
        ];
        let components = std::array::from_fn(|i| Component {
            effect: Effect::ALL[i],
            df: df[i],
            ss: ss[i],
            ms: ms[i],
            estimate: estimates[i],
            variance: estimates[i].max(0.0),
            negative: estimates[i] < 0.0,
        });
        GStudy {
            persons: np,
            raters: nr,
            questions: nq,
            mean,
            components,
        }
    }
}

fn check_sizes(persons: usize, raters: usize, questions: usize) -> Result<(), GError> {
    let cells = persons
        .checked_mul(raters)
        .and_then(|x| x.checked_mul(questions));
    if persons < MIN_LEVELS || raters < MIN_LEVELS || questions < MIN_LEVELS || cells.is_none() {
        return Err(GError::TooFew {
            persons,
            raters,
            questions,
        });
    }
    Ok(())
}

fn split(i: usize, raters: usize, questions: usize) -> (usize, usize, usize) {
    (
        i / (raters * questions),
        (i / questions) % raters,
        i % questions,
    )
}

/// Collects scores cell by cell, in any order; `build` names the first missing cell.
#[derive(Debug, Clone)]
pub struct Builder {
    persons: usize,
    raters: usize,
    questions: usize,
    cells: Vec<Option<f64>>,
}

impl Builder {
    pub fn new(persons: usize, raters: usize, questions: usize) -> Result<Self, GError> {
        check_sizes(persons, raters, questions)?;
        Ok(Self {
            persons,
            raters,
            questions,
            cells: vec![None; persons * raters * questions],
        })
    }

    /// Sets one cell; a second score for the same cell is an error, not an overwrite.
    pub fn set(
        &mut self,
        person: usize,
        rater: usize,
        question: usize,
        score: f64,
    ) -> Result<(), GError> {
        if person >= self.persons || rater >= self.raters || question >= self.questions {
            return Err(GError::OutOfRange {
                person,
                rater,
                question,
            });
        }
        if !score.is_finite() {
            return Err(GError::NotFinite {
                person,
                rater,
                question,
            });
        }
        let cell = &mut self.cells[(person * self.raters + rater) * self.questions + question];
        if cell.is_some() {
            return Err(GError::Duplicate {
                person,
                rater,
                question,
            });
        }
        *cell = Some(score);
        Ok(())
    }

    pub fn build(self) -> Result<Crossed, GError> {
        let missing = self.cells.iter().filter(|c| c.is_none()).count();
        if let Some(i) = self.cells.iter().position(|c| c.is_none()) {
            let (person, rater, question) = split(i, self.raters, self.questions);
            return Err(GError::Missing {
                missing,
                person,
                rater,
                question,
            });
        }
        let scores = self.cells.into_iter().flatten().collect();
        Crossed::from_dense(self.persons, self.raters, self.questions, scores)
    }
}

/// One line of the ANOVA table and its variance component.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Component {
    pub effect: Effect,
    pub df: f64,
    pub ss: f64,
    pub ms: f64,
    /// The ANOVA estimate as solved from the mean squares, possibly negative.
    pub estimate: f64,
    /// The estimate with a negative value set to zero: the one the D study uses.
    pub variance: f64,
    /// Whether the estimate was negative and set to zero.
    pub negative: bool,
}

/// The G study of a p × r × q design.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GStudy {
    pub persons: usize,
    pub raters: usize,
    pub questions: usize,
    pub mean: f64,
    /// In the order of [`Effect::ALL`].
    pub components: [Component; 7],
}

/// A D study for `raters` raters and `questions` questions per person, each person's score
/// the mean over them (Brennan 2001, chapter 4, the p × R × Q design).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DStudy {
    pub raters: usize,
    pub questions: usize,
    /// σ²(p), the universe score variance.
    pub universe: f64,
    /// σ²(δ) = σ²(pr)/n_r + σ²(pq)/n_q + σ²(prq,e)/(n_r·n_q).
    pub relative_error: f64,
    /// σ²(Δ) = σ²(δ) + σ²(r)/n_r + σ²(q)/n_q + σ²(rq)/(n_r·n_q).
    pub absolute_error: f64,
    /// Eρ² = σ²(p) / (σ²(p) + σ²(δ)); `None` when both are zero.
    pub e_rho2: Option<f64>,
    /// Φ = σ²(p) / (σ²(p) + σ²(Δ)); `None` when both are zero.
    pub phi: Option<f64>,
}

impl GStudy {
    /// The component of one effect.
    pub fn component(&self, effect: Effect) -> &Component {
        let i = Effect::ALL
            .iter()
            .position(|&e| e == effect)
            .unwrap_or_default();
        &self.components[i]
    }

    fn variance(&self, effect: Effect) -> f64 {
        self.component(effect).variance
    }

    /// The D study for n_r raters and n_q questions; `None` when either is zero.
    pub fn d_study(&self, raters: usize, questions: usize) -> Option<DStudy> {
        if raters == 0 || questions == 0 {
            return None;
        }
        let (nr, nq) = (raters as f64, questions as f64);
        let universe = self.variance(Effect::Person);
        let relative_error = self.variance(Effect::PersonRater) / nr
            + self.variance(Effect::PersonQuestion) / nq
            + self.variance(Effect::Residual) / (nr * nq);
        let absolute_error = relative_error
            + self.variance(Effect::Rater) / nr
            + self.variance(Effect::Question) / nq
            + self.variance(Effect::RaterQuestion) / (nr * nq);
        Some(DStudy {
            raters,
            questions,
            universe,
            relative_error,
            absolute_error,
            e_rho2: ratio(universe, universe + relative_error),
            phi: ratio(universe, universe + absolute_error),
        })
    }

    /// The D studies for 1 to 4 raters and 2 to 8 questions, raters outermost.
    pub fn d_table(&self) -> Vec<DStudy> {
        (1..=4)
            .flat_map(|r| (2..=8).filter_map(move |q| self.d_study(r, q)))
            .collect()
    }
}

#[cfg(test)]
mod tests;
