# Reference values for src/stats/decision (tests in src/stats/decision/tests.rs), written to
# tests/fixtures/decision/*.json. The tests read only those files; R is not needed to run them.
#
#   Rscript benches/reference/decision_reference.R     (from the repository's top folder)
#
# Needs R with the CRAN packages betafunctions (1.9.0, Haakstad: Livingston & Lewis, LL.CA) and
# cacIRT (1.4, Lathrop: Rudner, class.Rud / Rud.P); R_LIBS may point at a private library.
# Neither is in Debian: install them from their CRAN sources with R CMD INSTALL. Both are plain R.
#
# What is computed, and how it is checked:
# - Livingston & Lewis: betafunctions::LL.CA on two score sets (one where the four-parameter beta
#   is admissible, one where LL.CA's fail-safe falls back to two parameters). LL.CA integrates with
#   R's default tolerance (about 1e-4 relative); the same integrals are recomputed here with the
#   fitted parameters and rel.tol = 1e-13, and those are the values the tests hold to 1e-9. LL.CA's
#   own figures are kept too (held to 1e-6).
# - Subkoviak (1976): no R package implements the 1976 procedure, so it is written out here from
#   the paper's definition with pbinom, independently of the Rust code.
# - Rudner: cacIRT::class.Rud on given measures and standard errors (the P method).
# - The Rasch measure of a raw score: uniroot on the test characteristic curve, tol 1e-14.

suppressPackageStartupMessages({
  library(betafunctions)
  library(cacIRT)
  library(jsonlite)
})

out_dir <- "tests/fixtures/decision"
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
# Numbers with 17 significant digits (jsonlite alone stops at 15), so each reads back as the
# same double.
full_digits <- function(v) {
  if (is.list(v)) return(lapply(v, full_digits))
  if (!is.numeric(v)) return(v)
  text <- sprintf("%.17g", v)
  if (length(v) == 1) structure(text, class = "json")
  else structure(paste0("[", paste(text, collapse = ", "), "]"), class = "json")
}
write_fixture <- function(value, name) {
  writeLines(toJSON(full_digits(value), auto_unbox = TRUE, pretty = TRUE, json_verbatim = TRUE),
             file.path(out_dir, name))
}

# The score distribution 0..n of a vector of totals.
distribution <- function(x, n) as.numeric(tabulate(x + 1, nbins = n + 1))

# KR-21 with the population variance (divisor N), as stats::items computes it.
kr21 <- function(x, n) {
  m <- mean(x); v <- mean((x - m)^2)
  n / (n - 1) * (1 - m * (n - m) / (n * v))
}

# Livingston & Lewis: LL.CA, then its integrals again at a tight tolerance.
ll_reference <- function(x, n, cut, reliability) {
  ll <- suppressWarnings(LL.CA(x, reliability = reliability, cut = cut, min = 0, max = n,
                               modelfit = NULL))
  p <- ll$parameters
  N <- round(p$etl)
  c <- cut / n
  # betafunctions' cut on the binomial scale: round(N·c) in the accuracy integrals and
  # floor(N·c) in the consistency ones; the two agree on these data.
  stopifnot(round(N * c) == floor(N * c))
  # dfac() in betafunctions counts a rescaled score below the moment's order as 0; Lord's
  # polynomial (the Rust code) differs only then, which these data never reach.
  stopifnot(min(x) * p$etl / n >= 4)
  C <- round(N * c)
  g <- function(t) dBeta.4P(t, p$l, p$u, p$alpha, p$beta)
  pass <- function(t) pbinom(C - 1, N, t, lower.tail = FALSE)
  fail <- function(t) pbinom(C - 1, N, t)
  tight <- function(f, lo, hi) {
    integrate(f, lo, hi, rel.tol = 1e-13, abs.tol = 0, subdivisions = 5000L)$value
  }
  lo <- p$l; hi <- p$u
  tc <- min(max(c, lo), hi)
  acc <- list(
    pass_pass = tight(function(t) g(t) * pass(t), tc, hi),
    pass_fail = tight(function(t) g(t) * fail(t), tc, hi),
    fail_pass = tight(function(t) g(t) * pass(t), lo, tc),
    fail_fail = tight(function(t) g(t) * fail(t), lo, tc))
  con <- list(
    pass_pass = tight(function(t) g(t) * pass(t)^2, lo, hi),
    pass_fail = tight(function(t) g(t) * pass(t) * fail(t), lo, hi),
    fail_fail = tight(function(t) g(t) * fail(t)^2, lo, hi))
  con$fail_pass <- con$pass_fail
  pc <- con$pass_pass + con$pass_fail
  chance <- pc^2 + (1 - pc)^2
  consistency <- con$pass_pass + con$fail_fail
  list(
    n_items = n, cut = cut, reliability = reliability,
    distribution = distribution(x, n),
    effective_length = p$etl, binomial_length = N, binomial_cut = C,
    model = if (p$l == 0 && p$u == 1) "two_parameter" else "four_parameter",
    alpha = p$alpha, beta = p$beta, lower = p$l, upper = p$u,
    accuracy_table = acc, accuracy = acc$pass_pass + acc$fail_fail,
    consistency_table = con, consistency = consistency,
    chance = chance, kappa = (consistency - chance) / (1 - chance),
    betafunctions = list(
      accuracy = ll$classification.accuracy$Accuracy,
      consistency = ll$classification.consistency$p,
      kappa = ll$classification.consistency$Kappa))
}

# Subkoviak (1976) written out: Kelley-regressed true proportions with KR-21, binomial errors.
subkoviak_reference <- function(x, n, cut) {
  r <- kr21(x, n)
  p_true <- r * x / n + (1 - r) * mean(x) / n
  P <- pbinom(cut - 1, n, p_true, lower.tail = FALSE)
  p0 <- mean(P^2 + (1 - P)^2)
  Pbar <- mean(P)
  chance <- Pbar^2 + (1 - Pbar)^2
  list(kr21 = r, pass_rate = Pbar, p0 = p0, chance = chance,
       kappa = (p0 - chance) / (1 - chance))
}

# ---- Score set 1: 60 items, true proportions 4-parameter beta, cut 48 (80%). ----
set.seed(20260501)
n <- 60
tau <- rBeta.4P(400, 0.35, 0.97, 6, 2.5)
x1 <- rbinom(400, n, tau)
r1 <- 0.85
ll1 <- ll_reference(x1, n, 48, r1)
ll1$subkoviak <- subkoviak_reference(x1, n, 48)
write_fixture(ll1, "four_parameter.json")

# ---- Score set 2: 40 items, true proportions beta(6, 1.5) on [0, 1], reliability KR-21: the
# four-parameter fit puts its upper bound above 1, and LL.CA's fail-safe fits two parameters. ----
set.seed(207)
n2 <- 40
tau2 <- rbeta(300, 6, 1.5)
x2 <- rbinom(300, n2, tau2)
# The scores add up to a multiple of 40, so tests/analyze.rs can lay them out as a response
# file in which every item has the same difficulty: there KR-20 = KR-21, the reliability used
# here, and `analyze items --cut 32` must give these figures.
stopifnot(sum(x2) %% n2 == 0)
ll2 <- ll_reference(x2, n2, 32, kr21(x2, n2))
four <- suppressWarnings(Beta.tp.fit(x2, 0, n2, etl = ll2$effective_length, true.model = "4P",
                                     failsafe = FALSE))
stopifnot(ll2$model == "two_parameter", four$u > 1 || four$l < 0)
ll2$inadmissible_four_parameter <- list(alpha = four$alpha, beta = four$beta, lower = four$l,
                                        upper = four$u)
ll2$subkoviak <- subkoviak_reference(x2, n2, 32)
write_fixture(ll2, "two_parameter.json")

# ---- Rudner: measures and standard errors of 12 persons, cut at 0.4 logits. ----
theta <- c(-1.8, -1.1, -0.7, -0.35, 0, 0.2, 0.4, 0.55, 0.9, 1.3, 1.75, 2.6)
se <- c(0.52, 0.41, 0.37, 0.35, 0.33, 0.33, 0.33, 0.34, 0.36, 0.40, 0.47, 0.66)
rud <- class.Rud(0.4, ip = NULL, ability = theta, se = se)
write_fixture(list(cut = 0.4, theta = theta, se = se,
                   accuracy = unname(rud$Marginal[1, "Accuracy"]),
                   consistency = unname(rud$Marginal[1, "Consistency"]),
                   conditional_accuracy = unname(rud$Conditional$Accuracy[, 1]),
                   conditional_consistency = unname(rud$Conditional$Consistency[, 1])),
              "rudner.json")

# ---- The Rasch measure and standard error of a raw cut on a 10-item form. ----
b <- c(-1.6, -1.1, -0.7, -0.4, -0.1, 0.15, 0.45, 0.8, 1.2, 1.9)
tcc <- function(t) sum(plogis(t - b))
rasch <- lapply(1:9, function(r) {
  m <- uniroot(function(t) tcc(t) - r, c(-10, 10), tol = 1e-14)$root
  list(raw = r, measure = m, se = 1 / sqrt(sum(plogis(m - b) * (1 - plogis(m - b)))))
})
write_fixture(list(difficulties = b, scores = rasch), "rasch_cut.json")
