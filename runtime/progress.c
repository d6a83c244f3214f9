/* progress.c — the progress bar on a terminal (stderr), redrawn at most
 * ten times a second; off the terminal nothing is drawn per step (the
 * per-epoch line on stdout is the plain record). */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "nnrt_internal.h"

enum { BAR_WIDTH = 20 };

/* A bar is on the terminal's last line, which it leaves unended. */
static int bar_shown;

double rt_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void rt_progress_begin(RtProgress *p, int quiet, int64_t epoch, int64_t epochs)
{
	p->quiet = quiet;
	p->tty = !quiet && isatty(fileno(stderr));
	p->t0 = rt_now();
	p->last_draw = 0;
	p->epoch = epoch;
	p->epochs = epochs;
}

static void human_rate(double r, char *buf, size_t len)
{
	if (r >= 1e6)
		snprintf(buf, len, "%.1fM", r / 1e6);
	else if (r >= 1e3)
		snprintf(buf, len, "%.0fk", r / 1e3);
	else
		snprintf(buf, len, "%.0f", r);
}

static void draw(RtProgress *p, int64_t done, int64_t total, double loss, double now)
{
	int filled = total > 0 ? (int)(BAR_WIDTH * done / total) : BAR_WIDTH;
	char rate[32];
	human_rate(now > p->t0 ? (double)done / (now - p->t0) : 0, rate, sizeof rate);
	fprintf(stderr, "\repoch %lld/%lld [", (long long)p->epoch, (long long)p->epochs);
	for (int i = 0; i < BAR_WIDTH; i++)
		fputs(i < filled ? "\u2588" : "\u2591", stderr);
	fprintf(stderr, "] %3d%% %s samples/s loss %.4f\033[K", total > 0 ? (int)(100 * done / total) : 100,
	        rate, loss);
	fflush(stderr);
	bar_shown = 1;
	p->last_draw = now;
}

void rt_progress_update(RtProgress *p, int64_t done, int64_t total, double loss)
{
	if (!p->tty)
		return;
	double now = rt_now();
	if (now - p->last_draw >= 0.1 || done == total)
		draw(p, done, total, loss, now);
}

void rt_progress_end(RtProgress *p)
{
	if (p->tty) {
		fputs("\r\033[K", stderr);   /* the epoch line on stdout replaces the bar */
		fflush(stderr);
	}
	bar_shown = 0;
}

/* An error or a warning in mid-epoch starts its own line, below the bar. */
void rt_progress_break(void)
{
	if (bar_shown)
		fputc('\n', stderr);
	bar_shown = 0;
}
