/* lower_suggest.c — "did you mean": the closest name to a misspelt one,
 * through a table of other libraries' words first, for the elaborator's
 * errors (unknown names, keywords, arguments). */
#include <string.h>
#include "lower.h"

/* Edit distance with adjacent transpositions counting as one edit
 * ("inti" is one slip from "init"). */
static int distance(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b);
	if (la > 64 || lb > 64)
		return 99;
	int d[65][65];
	for (int i = 0; i <= la; i++)
		d[i][0] = i;
	for (int j = 0; j <= lb; j++)
		d[0][j] = j;
	for (int i = 1; i <= la; i++)
		for (int j = 1; j <= lb; j++) {
			int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

/* The closest candidate, at most a third of the name's length away (one
 * edit for short names); the first one wins a tie, so callers list the
 * likeliest candidates (locals) first. */
const char *suggest(const char *name, const char *const *cands, int n)
{
	const char *best = NULL;
	int limit = (int)strlen(name) / 3, bestd;
	if (limit < 1)
		limit = 1;
	bestd = limit + 1;
	for (int i = 0; i < n; i++) {
		int d = distance(name, cands[i]);
		if (d > 0 && d < bestd) {
			best = cands[i];
			bestd = d;
		}
	}
	return best;
}

/* Names other libraries give to what nn calls otherwise (PyTorch, Keras,
 * NumPy): too far apart for the edit distance, but the likeliest slips. */
static const char *const synonyms[][2] = {
	{ "learning_rate", "lr" }, { "lr_rate", "lr" }, { "alpha", "lr" }, { "eta", "lr" },
	{ "epsilon", "eps" }, { "beta_1", "beta1" }, { "beta_2", "beta2" },
	{ "decay", "weight_decay" }, { "wd", "weight_decay" }, { "l2", "weight_decay" },
	{ "clip_norm", "clip" }, { "max_norm", "clip" }, { "clipnorm", "clip" },
	{ "keep_dims", "keepdims" }, { "keepdim", "keepdims" }, { "dim", "axis" }, { "axes", "axis" },
	{ "batch_size", "batch" }, { "minibatch", "batch" }, { "epoch", "epochs" }, { "num_epochs", "epochs" },
	{ "n_epochs", "epochs" }, { "random_seed", "seed" }, { "rate", "p" }, { "prob", "p" },
	{ "units", "out" }, { "out_features", "out" }, { "features", "out" },
	{ "kernel_size", "size" }, { "pool_size", "size" }, { "strides", "stride" }, { "pad", "padding" },
	{ "initializer", "init" }, { "kernel_initializer", "init" }, { "std_dev", "std" }, { "stddev", "std" },
};

/* suggest(), after the table of synonyms. */
const char *nearest(const char *name, const char *const *cands, int n)
{
	for (size_t i = 0; i < sizeof synonyms / sizeof *synonyms; i++)
		if (!strcmp(name, synonyms[i][0]))
			for (int j = 0; j < n; j++)
				if (!strcmp(cands[j], synonyms[i][1]))
					return cands[j];
	return suggest(name, cands, n);
}

/* "a, b, c" */
const char *name_list(const char *const *names, int n)
{
	const char *s = n ? names[0] : "";
	for (int i = 1; i < n; i++)
		s = xprintf("%s, %s", s, names[i]);
	return s;
}

