# Reference values for src/stats/rasch (tests in src/stats/rasch/tests.rs), written to
# tests/fixtures/rasch/. The tests read only those files; R is not needed to run them.
#
#   Rscript benches/reference/rasch_reference.R     (from the repository's top folder)
#
# Needs R with eRm and psychotools (Debian: r-cran-erm, r-cran-psychotools) and jsonlite.
#
# Data: eRm's raschdat1 (100 persons x 30 items), written to raschdat1.csv, and the same data
# with items not presented by design (raschdat1_na.csv, "NA" cells): persons 1-50 were not
# presented items 26-30, persons 51-100 not items 1-5, and persons 1-20 not items 11-13.
#
# What is computed, and how:
# - Difficulties and SEs by CML: eRm::RM (sum-zero normalisation; difficulty = -betapar, SE =
#   se.beta). eRm maximises with nlm and a numerical Hessian, so its figures hold to about 1e-5;
#   psychotools::raschmodel (analytic Hessian, reltol 1e-10) is kept too, its item-1-is-zero
#   difficulties shifted to sum zero and its covariance taken to the sum-zero space (C V C',
#   C = I - 11'/k), which is what the tests hold tightly.
# - Person measures: eRm::person.parameter gives ML estimates (kept, for raw 1..k-1 of each
#   form). Neither eRm nor psychotools gives Warm's WLE, so it is computed here from its defining
#   equation, r - sum P + J/(2I) = 0, with uniroot (tol 1e-14) at psychotools' difficulties:
#   independent of the Rust code, which solves it by safeguarded Newton.
# - Item fit: eRm::itemfit on person.parameter (ML measures, persons with extreme scores left
#   out). With NA cells eRm's infit is NA (colSums(Vmat) without na.rm), so for raschdat1_na the
#   same formulas are computed here with the NA cells left out.

suppressPackageStartupMessages({
  library(eRm)
  library(psychotools)
  library(jsonlite)
})

out_dir <- "tests/fixtures/rasch"
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
full_digits <- function(v) {
  if (is.list(v)) return(lapply(v, full_digits))
  if (!is.numeric(v)) return(v)
  text <- ifelse(is.na(v), "null", sprintf("%.17g", v))
  if (length(v) == 1) structure(text, class = "json")
  else structure(paste0("[", paste(text, collapse = ", "), "]"), class = "json")
}
write_fixture <- function(value, name) {
  writeLines(toJSON(full_digits(value), auto_unbox = TRUE, pretty = TRUE, json_verbatim = TRUE),
             file.path(out_dir, name))
}

# Warm's WLE of raw r on difficulties b, and 1/sqrt(I) there.
wle <- function(r, b) {
  f <- function(t) {
    p <- plogis(t - b); i <- sum(p * (1 - p)); j <- sum(p * (1 - p) * (1 - 2 * p))
    r - sum(p) + j / (2 * i)
  }
  t <- uniroot(f, c(min(b) - 20, max(b) + 20), tol = 1e-14, maxiter = 10000)$root
  p <- plogis(t - b)
  c(theta = t, se = 1 / sqrt(sum(p * (1 - p))))
}

# Infit and outfit with ML measures, eRm's formulas, NA cells left out.
fit_by_hand <- function(X, b, theta) {
  keep <- !is.na(theta)
  X <- X[keep, , drop = FALSE]; theta <- theta[keep]
  P <- plogis(outer(theta, b, "-")); P[is.na(X)] <- NA
  V <- P * (1 - P); C <- P^4 * (1 - P) + (1 - P)^4 * P
  n <- colSums(!is.na(X))
  outfit <- colSums((X - P)^2 / V, na.rm = TRUE) / n
  infit <- colSums((X - P)^2, na.rm = TRUE) / colSums(V, na.rm = TRUE)
  q_out <- sqrt(colSums(C / V^2, na.rm = TRUE) / n^2 - 1 / n)
  q_in <- sqrt(colSums(C - V^2, na.rm = TRUE) / colSums(V, na.rm = TRUE)^2)
  list(outfit = unname(outfit), infit = unname(infit),
       outfit_z = unname((outfit^(1/3) - 1) * 3 / q_out + q_out / 3),
       infit_z = unname((infit^(1/3) - 1) * 3 / q_in + q_in / 3))
}

# ML measure of every person from their own presented items (NA for extreme scores).
ml_by_person <- function(X, b) {
  sapply(seq_len(nrow(X)), function(v) {
    on <- !is.na(X[v, ]); r <- sum(X[v, on]); k <- sum(on)
    if (r == 0 || r == k) return(NA)
    uniroot(function(t) r - sum(plogis(t - b[on])), c(-30, 30), tol = 1e-14)$root
  })
}

reference <- function(X, name) {
  k <- ncol(X)
  m <- RM(X)
  pt <- raschmodel(X, reltol = 1e-12)
  b_pt <- c(0, coef(pt)); b_pt <- b_pt - mean(b_pt)
  V <- matrix(0, k, k); V[-1, -1] <- vcov(pt)
  C <- diag(k) - matrix(1 / k, k, k)
  se_pt <- sqrt(diag(C %*% V %*% t(C)))
  pp <- person.parameter(m)
  forms <- unique(lapply(seq_len(nrow(X)), function(v) which(!is.na(X[v, ]))))
  tables <- lapply(forms, function(items) {
    w <- sapply(0:length(items), function(r) wle(r, b_pt[items]))
    list(items = items - 1, wle = unname(w["theta", ]), se = unname(w["se", ]))
  })
  theta_ml <- ml_by_person(X, b_pt)
  fit_erm <- itemfit(pp)
  out <- list(
    persons = nrow(X), items = k,
    erm = list(difficulty = unname(-m$betapar), se = unname(m$se.beta),
               loglik = m$loglik, iterations = m$iter),
    psychotools = list(difficulty = unname(b_pt), se = unname(se_pt), loglik = pt$loglik),
    forms = tables,
    person_ml = unname(theta_ml),
    fit_erm = list(outfit = unname(fit_erm$i.outfitMSQ), infit = unname(fit_erm$i.infitMSQ),
                   outfit_z = unname(fit_erm$i.outfitZ), infit_z = unname(fit_erm$i.infitZ)),
    fit = fit_by_hand(as.matrix(X), b_pt, theta_ml)
  )
  write_fixture(out, paste0(name, ".json"))
  out
}

X <- as.matrix(raschdat1)
write.csv(X, file.path(out_dir, "raschdat1.csv"), row.names = FALSE, quote = FALSE)
full <- reference(X, "raschdat1")

Xna <- X
Xna[1:50, 26:30] <- NA
Xna[51:100, 1:5] <- NA
Xna[1:20, 11:13] <- NA
write.csv(Xna, file.path(out_dir, "raschdat1_na.csv"), row.names = FALSE, quote = FALSE, na = "NA")
na <- reference(Xna, "raschdat1_na")

cat("raschdat1: max |eRm - psychotools| difficulty",
    max(abs(full$erm$difficulty - full$psychotools$difficulty)),
    "se", max(abs(full$erm$se - full$psychotools$se)), "\n")
cat("raschdat1_na: max |eRm - psychotools| difficulty",
    max(abs(na$erm$difficulty - na$psychotools$difficulty)),
    "se", max(abs(na$erm$se - na$psychotools$se)), "\n")
cat("raschdat1: max |eRm itemfit - by hand| outfit",
    max(abs(full$fit_erm$outfit - full$fit$outfit)), "infit",
    max(abs(full$fit_erm$infit - full$fit$infit)), "infit_z",
    max(abs(full$fit_erm$infit_z - full$fit$infit_z)), "\n")
