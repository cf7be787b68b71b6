# Regenerates every reference file in this folder from R's `survival` package.
#
#   Rscript make_reference.R        (run from this folder)
#
# Deterministic: no random numbers, no timestamps. Numbers are written with
# 17 significant digits (sprintf "%.17g"), which round-trips IEEE doubles
# exactly. See README.md for the schemas and conventions.

suppressPackageStartupMessages(library(survival))

CONF_TYPES <- c("log", "log-log", "plain")
OUT_DIR <- "."

# ---------------------------------------------------------------------------
# Number formatting
# ---------------------------------------------------------------------------

# CSV cell: 17 significant digits; NA -> "NA", NaN -> "NaN", +-Inf -> "Inf"/"-Inf".
fmt_num_csv <- function(x) {
  out <- sprintf("%.17g", as.double(x))
  out[is.na(x) & !is.nan(x)] <- "NA"
  out[is.nan(x)] <- "NaN"
  out[is.infinite(x) & x > 0] <- "Inf"
  out[is.infinite(x) & x < 0] <- "-Inf"
  out
}

write_csv17 <- function(df, file) {
  out <- df
  for (nm in names(out)) {
    v <- out[[nm]]
    if (is.factor(v)) v <- as.character(v)
    if (is.logical(v)) v <- ifelse(is.na(v), "NA", ifelse(v, "TRUE", "FALSE"))
    if (is.numeric(v)) v <- fmt_num_csv(v)
    if (is.character(v)) {
      v[is.na(v)] <- "NA"
      stopifnot(!any(grepl("[,\"\n]", v)))
    }
    out[[nm]] <- v
  }
  write.table(out, file = file.path(OUT_DIR, file), sep = ",", quote = FALSE,
              row.names = FALSE, col.names = TRUE, eol = "\n")
  invisible(file)
}

# ---------------------------------------------------------------------------
# Minimal JSON writer with full-precision numbers.
#   - named list      -> object (names kept in order)
#   - unnamed list    -> array
#   - atomic length 1 -> scalar, unless wrapped with A() (always array)
#   - atomic length!=1-> array
#   - numbers: "%.17g"; NA -> null; NaN -> NaN; Inf -> Infinity; -Inf -> -Infinity
#     (NaN/Infinity are the tokens Python's json module reads and writes)
# ---------------------------------------------------------------------------

A <- function(x) structure(x, json_array = TRUE)

json_str <- function(s) {
  s <- gsub("\\\\", "\\\\\\\\", s)
  s <- gsub("\"", "\\\\\"", s)
  s <- gsub("\n", "\\\\n", s)
  paste0("\"", s, "\"")
}

json_atom <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  if (is.character(x)) {
    out <- json_str(x)
    out[is.na(x)] <- "null"
  } else if (is.logical(x)) {
    out <- ifelse(x, "true", "false")
    out[is.na(x)] <- "null"
  } else if (is.integer(x)) {
    out <- sprintf("%d", x)
    out[is.na(x)] <- "null"
  } else if (is.numeric(x)) {
    x <- as.double(x)
    out <- sprintf("%.17g", x)
    out[is.na(x) & !is.nan(x)] <- "null"
    out[is.nan(x)] <- "NaN"
    out[is.infinite(x) & x > 0] <- "Infinity"
    out[is.infinite(x) & x < 0] <- "-Infinity"
  } else {
    stop("unsupported type: ", class(x))
  }
  out
}

to_json <- function(x, indent = 0) {
  pad <- strrep(" ", indent + 1)
  pad0 <- strrep(" ", indent)
  if (is.null(x)) return("null")
  if (is.data.frame(x)) x <- as.list(x)
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    items <- vapply(x, to_json, character(1), indent = indent + 1)
    if (!is.null(names(x))) {
      body <- paste0(pad, json_str(names(x)), ": ", items)
      return(paste0("{\n", paste(body, collapse = ",\n"), "\n", pad0, "}"))
    } else {
      body <- paste0(pad, items)
      return(paste0("[\n", paste(body, collapse = ",\n"), "\n", pad0, "]"))
    }
  }
  force_array <- isTRUE(attr(x, "json_array"))
  vals <- json_atom(unname(as.vector(x)))
  if (length(vals) == 1 && !force_array) return(vals)
  paste0("[", paste(vals, collapse = ", "), "]")
}

write_json17 <- function(x, file) {
  writeLines(to_json(x), file.path(OUT_DIR, file), useBytes = TRUE)
  invisible(file)
}

# A data.frame as a JSON object of equal-length column arrays.
cols <- function(df) {
  out <- lapply(as.list(df), function(v) A(if (is.factor(v)) as.character(v) else v))
  names(out) <- names(df)
  out
}

# ---------------------------------------------------------------------------
# Helpers for survfit objects
# ---------------------------------------------------------------------------

# strata label "x=Maintained" -> "Maintained"
strata_values <- function(fit) {
  if (is.null(fit$strata)) return(NULL)
  lab <- rep(names(fit$strata), fit$strata)
  sub("^[^=]*=", "", lab)
}

survfit_rows <- function(fit) {
  df <- data.frame(
    time = fit$time, n.risk = fit$n.risk, n.event = fit$n.event,
    n.censor = fit$n.censor, surv = fit$surv, std.err = fit$std.err,
    lower = fit$lower, upper = fit$upper,
    cumhaz = fit$cumhaz, std.chaz = fit$std.chaz,
    check.names = FALSE)
  sv <- strata_values(fit)
  if (!is.null(sv)) df <- cbind(data.frame(strata = sv), df)
  df
}

summary_rows <- function(fit, times, extend) {
  s <- summary(fit, times = times, extend = extend)
  df <- data.frame(
    time = s$time, n.risk = s$n.risk, n.event = s$n.event,
    n.censor = s$n.censor, surv = s$surv, std.err = s$std.err,
    lower = s$lower, upper = s$upper, cumhaz = s$cumhaz,
    check.names = FALSE)
  if (!is.null(s$strata)) {
    df <- cbind(data.frame(strata = sub("^[^=]*=", "", as.character(s$strata))), df)
  }
  cols(df)
}

table_rows <- function(fit) {
  tab <- summary(fit)$table
  if (is.null(dim(tab))) tab <- matrix(tab, nrow = 1, dimnames = list(NULL, names(tab)))
  df <- as.data.frame(tab, check.names = FALSE)
  if (!is.null(fit$strata)) {
    df <- cbind(data.frame(strata = sub("^[^=]*=", "", rownames(tab))), df)
  }
  rownames(df) <- NULL
  cols(df)
}

quantile_rows <- function(fit, probs = c(0.25, 0.5, 0.75)) {
  q <- quantile(fit, probs = probs)
  if (is.null(fit$strata)) {
    df <- data.frame(prob = probs, quantile = unname(q$quantile),
                     lower = unname(q$lower), upper = unname(q$upper))
  } else {
    sv <- sub("^[^=]*=", "", rownames(q$quantile))
    df <- data.frame(
      strata = rep(sv, times = length(probs)),
      prob = rep(probs, each = length(sv)),
      quantile = as.vector(q$quantile), lower = as.vector(q$lower),
      upper = as.vector(q$upper))
    df <- df[order(match(df$strata, sv), df$prob), ]
  }
  rownames(df) <- NULL
  cols(df)
}

# One dataset: survfit CSVs (overall + by group) and the summary JSON.
do_survfit <- function(name, data, group, times) {
  specs <- list(overall = NULL)
  specs[[paste0("by_", group)]] <- group
  result <- list()
  for (key in names(specs)) {
    g <- specs[[key]]
    rhs <- if (is.null(g)) "1" else g
    fml <- as.formula(paste("Surv(time, event) ~", rhs))
    entry <- list(
      group_column = if (is.null(g)) NULL else g,
      formula = paste("Surv(time, event) ~", rhs),
      summary = list(), summary_no_extend = list(), table = list(), quantile = list())
    for (ct in CONF_TYPES) {
      fit <- survfit(fml, data = data, conf.type = ct)
      fit$call <- NULL
      fname <- if (is.null(g)) sprintf("%s_survfit_%s.csv", name, ct)
               else sprintf("%s_survfit_by_%s_%s.csv", name, g, ct)
      write_csv17(survfit_rows(fit), fname)
      entry$summary[[ct]] <- summary_rows(fit, times, extend = TRUE)
      entry$summary_no_extend[[ct]] <- summary_rows(fit, times, extend = FALSE)
      entry$table[[ct]] <- table_rows(fit)
      entry$quantile[[ct]] <- quantile_rows(fit)
    }
    result[[key]] <- entry
  }
  write_json17(c(list(dataset = name, landmark_times = A(times),
                      conf_int = 0.95), result),
               sprintf("%s_summary.json", name))
}

# ---------------------------------------------------------------------------
# Log-rank and Cox helpers
# ---------------------------------------------------------------------------

logrank <- function(label, formula, data, rho = 0) {
  d <- survdiff(formula, data = data, rho = rho)
  obs <- d$obs; ex <- d$exp
  stratified <- is.matrix(obs)
  obs_tot <- if (stratified) rowSums(obs) else obs
  exp_tot <- if (stratified) rowSums(ex) else ex
  df <- sum(exp_tot > 0) - 1
  groups <- names(d$n)
  out <- list(
    label = label,
    call = paste(deparse(formula, width.cutoff = 500), collapse = " "),
    rho = rho,
    n_used = sum(d$n),
    n_removed_na = if (is.null(d$na.action)) 0L else length(d$na.action),
    removed_rows = if (is.null(d$na.action)) A(integer(0)) else A(as.integer(d$na.action)),
    chisq = d$chisq,
    df = df,
    p = pchisq(d$chisq, df, lower.tail = FALSE),
    p_survdiff_object = d$pvalue,
    groups = list(group = A(sub("^[^=]*=", "", groups)), label = A(groups),
                  n = A(as.integer(d$n)), observed = A(obs_tot), expected = A(exp_tot),
                  o_minus_e = A(obs_tot - exp_tot)),
    var = lapply(seq_len(nrow(d$var)), function(i) A(d$var[i, ]))
  )
  if (stratified) {
    st <- names(d$strata)
    out$strata <- list(
      stratum = A(st), n = A(as.integer(d$strata)),
      observed = lapply(seq_along(st), function(j) A(obs[, j])),
      expected = lapply(seq_along(st), function(j) A(ex[, j])))
  }
  out
}

cox <- function(label, formula, data, ties) {
  m <- coxph(formula, data = data, ties = ties)
  s <- summary(m)
  cf <- s$coefficients; ci <- s$conf.int
  v <- m$var
  list(
    label = label,
    call = paste(deparse(formula, width.cutoff = 500), collapse = " "),
    ties = ties,
    n = s$n, nevent = s$nevent,
    n_removed_na = if (is.null(m$na.action)) 0L else length(m$na.action),
    iterations = m$iter,
    coefficients = list(
      term = A(rownames(cf)), coef = A(cf[, "coef"]), exp_coef = A(cf[, "exp(coef)"]),
      se_coef = A(cf[, "se(coef)"]), z = A(cf[, "z"]), p = A(cf[, "Pr(>|z|)"]),
      exp_neg_coef = A(ci[, "exp(-coef)"]),
      lower_95 = A(ci[, "lower .95"]), upper_95 = A(ci[, "upper .95"])),
    var = lapply(seq_len(nrow(v)), function(i) A(v[i, ])),
    loglik_null = m$loglik[1], loglik = m$loglik[2],
    likelihood_ratio = list(stat = unname(s$logtest["test"]), df = unname(s$logtest["df"]),
                            p = unname(s$logtest["pvalue"])),
    # summary.coxph() rounds the printed Wald statistic to 2 decimals (but
    # computes its p-value from the unrounded one); keep the unrounded value.
    wald = list(stat = unname(m$wald.test), df = unname(s$waldtest["df"]),
                p = unname(s$waldtest["pvalue"]),
                stat_as_printed = unname(s$waldtest["test"])),
    score = list(stat = unname(s$sctest["test"]), df = unname(s$sctest["df"]),
                 p = unname(s$sctest["pvalue"])),
    concordance = list(C = unname(s$concordance[1]), se = unname(s$concordance[2]))
  )
}

# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

aml_d <- data.frame(row = seq_len(nrow(survival::aml)),
                    time = survival::aml$time, event = survival::aml$status,
                    x = as.character(survival::aml$x))
aml_d$x <- factor(aml_d$x, levels = c("Maintained", "Nonmaintained"))

lung_d <- data.frame(row = seq_len(nrow(survival::lung)),
                     time = survival::lung$time,
                     event = as.integer(survival::lung$status == 2),
                     sex = survival::lung$sex,
                     ph.ecog = survival::lung$ph.ecog, check.names = FALSE)

vet_d <- data.frame(row = seq_len(nrow(survival::veteran)),
                    time = survival::veteran$time, event = survival::veteran$status,
                    trt = survival::veteran$trt,
                    celltype = as.character(survival::veteran$celltype))
vet_d$celltype <- factor(vet_d$celltype, levels = levels(survival::veteran$celltype))

mg <- survival::mgus2
mgus_d <- data.frame(row = seq_len(nrow(mg)), id = mg$id,
                     ptime = mg$ptime, pstat = mg$pstat,
                     futime = mg$futime, death = mg$death)
mgus_d$etime <- with(mgus_d, ifelse(pstat == 0, futime, ptime))
mgus_d$event <- with(mgus_d, ifelse(pstat == 0, 2 * death, 1))

# Small hand-made data set for edge cases of R's conventions (not from survival):
#   A: censoring before the first event (surv == 1 row -> log-log CI is NA);
#      a horizontal segment at exactly surv == 0.5 (between t=5 and t=7), so the
#      median is the midpoint 6; the last time has an event and a censoring.
#   B: tied events; the curve ends on a flat segment at exactly 0.5 with
#      censorings, so summary()$table median (2) and quantile() median (3.5) differ.
#   C: censoring first, tied events, the last observation is an event so
#      surv drops to 0 (std.err Inf, log CI NA, plain CI NaN).
#   D: the curve never reaches 0.5 (median NA).
edge_d <- data.frame(
  time  = c(1, 2, 3, 4, 5, 7, 8, 9, 9,
            1, 1, 2, 2, 3, 3, 4, 5,
            1, 2, 2, 3, 4,
            1, 2, 3, 4, 5, 6),
  event = c(0, 1, 1, 1, 1, 1, 1, 1, 0,
            1, 1, 1, 1, 0, 0, 0, 0,
            0, 1, 1, 0, 1,
            1, 1, 0, 0, 0, 0),
  group = rep(c("A", "B", "C", "D"), times = c(9, 8, 5, 6)))
edge_d <- cbind(row = seq_len(nrow(edge_d)), edge_d)
edge_d$group <- factor(edge_d$group, levels = c("A", "B", "C", "D"))

stopifnot(!anyNA(aml_d), !anyNA(vet_d), !anyNA(mgus_d), !anyNA(edge_d),
          !anyNA(lung_d[, c("time", "event", "sex")]))

write_csv17(aml_d, "aml_data.csv")
write_csv17(lung_d, "lung_data.csv")
write_csv17(vet_d, "veteran_data.csv")
write_csv17(mgus_d, "mgus2_data.csv")
write_csv17(edge_d, "edge_data.csv")

# ---------------------------------------------------------------------------
# Kaplan-Meier: survfit rows, landmark summaries, medians/quantiles
# ---------------------------------------------------------------------------

# Landmarks mix: 0, tied event times, times between events, times that are
# censor-only or event+censor times, the last observed time, and times beyond it.
do_survfit("aml", aml_d, "x",
           c(0, 5, 10, 13, 16, 23, 30.5, 45, 100, 161, 200))
do_survfit("lung", lung_d, "sex",
           c(0, 5, 11, 92, 100, 183.5, 310, 365, 500, 730, 883, 1000, 1022, 1100))
do_survfit("veteran", vet_d, "trt",
           c(0, 1, 10, 25, 52.5, 83, 100, 365, 500, 999, 1000))
do_survfit("edge", edge_d, "group",
           c(0, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 9, 10))

# ---------------------------------------------------------------------------
# Log-rank tests and Cox models
# ---------------------------------------------------------------------------

vet_ref_squamous <- vet_d
vet_ref_squamous$celltype <- relevel(vet_d$celltype, ref = "squamous")
vet_ref_large <- vet_d
vet_ref_large$celltype <- relevel(vet_d$celltype, ref = "large")

write_json17(list(
  dataset = "aml",
  logrank = list(
    logrank("x", Surv(time, event) ~ x, aml_d),
    logrank("x_rho1", Surv(time, event) ~ x, aml_d, rho = 1)),
  cox = list(
    cox("x_efron", Surv(time, event) ~ x, aml_d, "efron"),
    cox("x_breslow", Surv(time, event) ~ x, aml_d, "breslow"),
    cox("x_exact", Surv(time, event) ~ x, aml_d, "exact"))
), "aml_tests.json")

write_json17(list(
  dataset = "lung",
  logrank = list(
    logrank("sex", Surv(time, event) ~ sex, lung_d),
    logrank("sex_strata_ph.ecog", Surv(time, event) ~ sex + strata(ph.ecog), lung_d)),
  cox = list(
    cox("sex_efron", Surv(time, event) ~ sex, lung_d, "efron"),
    cox("sex_breslow", Surv(time, event) ~ sex, lung_d, "breslow"),
    cox("sex_strata_ph.ecog_efron", Surv(time, event) ~ sex + strata(ph.ecog), lung_d, "efron"))
), "lung_tests.json")

write_json17(list(
  dataset = "veteran",
  logrank = list(
    logrank("trt", Surv(time, event) ~ trt, vet_d),
    logrank("celltype", Surv(time, event) ~ celltype, vet_d),
    logrank("trt_strata_celltype", Surv(time, event) ~ trt + strata(celltype), vet_d)),
  cox = list(
    cox("trt_efron", Surv(time, event) ~ trt, vet_d, "efron"),
    cox("trt_breslow", Surv(time, event) ~ trt, vet_d, "breslow"),
    cox("celltype_ref_squamous_efron", Surv(time, event) ~ celltype, vet_ref_squamous, "efron"),
    cox("celltype_ref_large_efron", Surv(time, event) ~ celltype, vet_ref_large, "efron"),
    cox("trt_strata_celltype_efron", Surv(time, event) ~ trt + strata(celltype), vet_d, "efron"))
), "veteran_tests.json")

write_json17(list(
  dataset = "edge",
  logrank = list(
    logrank("group", Surv(time, event) ~ group, edge_d)),
  cox = list(
    cox("group_efron", Surv(time, event) ~ group, edge_d, "efron"),
    cox("group_breslow", Surv(time, event) ~ group, edge_d, "breslow"))
), "edge_tests.json")

# ---------------------------------------------------------------------------
# Competing risks: mgus2 (Aalen-Johansen) and naive 1 - KM for progression
# ---------------------------------------------------------------------------

mgus_d$event_f <- factor(mgus_d$event, 0:2, labels = c("censor", "pcm", "death"))
aj <- survfit(Surv(etime, event_f) ~ 1, data = mgus_d)
km <- survfit(Surv(etime, event == 1) ~ 1, data = mgus_d)
stopifnot(identical(aj$states, c("(s0)", "pcm", "death")),
          length(aj$time) == length(km$time), all(aj$time == km$time))

cr <- data.frame(
  time = aj$time,
  n.risk = aj$n.risk[, 1],
  n.event.pcm = aj$n.event[, 2], n.event.death = aj$n.event[, 3],
  n.censor = aj$n.censor,
  pstate.s0 = aj$pstate[, 1], pstate.pcm = aj$pstate[, 2], pstate.death = aj$pstate[, 3],
  std.err.s0 = aj$std.err[, 1], std.err.pcm = aj$std.err[, 2], std.err.death = aj$std.err[, 3],
  lower.s0 = aj$lower[, 1], lower.pcm = aj$lower[, 2], lower.death = aj$lower[, 3],
  upper.s0 = aj$upper[, 1], upper.pcm = aj$upper[, 2], upper.death = aj$upper[, 3],
  cumhaz.pcm = aj$cumhaz[, 1], cumhaz.death = aj$cumhaz[, 2],
  km_pcm.n.risk = km$n.risk, km_pcm.n.event = km$n.event, km_pcm.n.censor = km$n.censor,
  km_pcm.surv = km$surv, km_pcm.cuminc = 1 - km$surv, km_pcm.std.err = km$std.err,
  km_pcm.cuminc_lower = 1 - km$upper, km_pcm.cuminc_upper = 1 - km$lower,
  check.names = FALSE)
write_csv17(cr, "mgus2_cuminc.csv")

mg_times <- c(0, 1, 12, 60, 120, 121.5, 240, 360, 424, 500)
saj <- summary(aj, times = mg_times, extend = TRUE)
skm <- summary(km, times = mg_times, extend = TRUE)
aj_tab <- summary(aj)$table
km_q <- quantile(km, probs = c(0.05, 0.1, 0.5))
write_json17(list(
  dataset = "mgus2",
  states = A(aj$states),
  n = nrow(mgus_d),
  event_counts = list(censor = sum(mgus_d$event == 0), pcm = sum(mgus_d$event == 1),
                      death = sum(mgus_d$event == 2)),
  landmark_times = A(mg_times),
  aj_summary = cols(data.frame(
    time = saj$time, n.risk = saj$n.risk[, 1],
    n.event.pcm = saj$n.event[, 2], n.event.death = saj$n.event[, 3],
    n.censor = saj$n.censor,
    pstate.s0 = saj$pstate[, 1], pstate.pcm = saj$pstate[, 2], pstate.death = saj$pstate[, 3],
    std.err.s0 = saj$std.err[, 1], std.err.pcm = saj$std.err[, 2], std.err.death = saj$std.err[, 3],
    lower.s0 = saj$lower[, 1], upper.s0 = saj$upper[, 1],
    lower.pcm = saj$lower[, 2], upper.pcm = saj$upper[, 2],
    lower.death = saj$lower[, 3], upper.death = saj$upper[, 3],
    check.names = FALSE)),
  aj_table = cols(data.frame(state = rownames(aj_tab), aj_tab, check.names = FALSE)),
  km_pcm_summary = cols(data.frame(
    time = skm$time, n.risk = skm$n.risk, n.event = skm$n.event, n.censor = skm$n.censor,
    surv = skm$surv, cuminc = 1 - skm$surv, std.err = skm$std.err,
    lower = skm$lower, upper = skm$upper, check.names = FALSE)),
  km_pcm_quantile = cols(data.frame(prob = c(0.05, 0.1, 0.5), quantile = unname(km_q$quantile),
                                    lower = unname(km_q$lower), upper = unname(km_q$upper))),
  km_pcm_table = as.list(summary(km)$table)
), "mgus2_tests.json")

# ---------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------

write_json17(list(
  R = R.version.string,
  survival = as.character(packageVersion("survival"))
), "versions.json")
