/* tiles.c — grey images laid out in a grid and drawn as PNG by gnuplot(1):
 * the canvas under every picture of images (rbm_png.c's filters and
 * chains, pictures.c's reconstructions).  Square images only (V a perfect
 * square, as 784 = 28 x 28).  The pixels go to gnuplot as a matrix in a
 * temporary file; the PNG is written beside the target and renamed over
 * it, so a failed plot leaves no half file. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "nnrt_internal.h"

int64_t rt_image_side(int64_t values, const char *what, const char *of)
{
	int64_t s = (int64_t)llround(sqrt((double)values));
	if (s * s != values)
		rt_fatal(RT_EXIT_USAGE, "%s draws square images, but %s has %lld values per image", what, of,
		         (long long)values);
	return s;
}

RtCanvas rt_canvas(int64_t side, int64_t rows, int64_t cols)
{
	RtCanvas c = { .side = side, .rows = rows, .cols = cols, .w = cols * (side + 1) + 1, .h = rows * (side + 1) + 1 };
	c.px = rt_alloc(sizeof *c.px * (size_t)(c.w * c.h));
	for (int64_t i = 0; i < c.w * c.h; i++)
		c.px[i] = 1;   /* white gaps between the tiles */
	return c;
}

void rt_canvas_tile(RtCanvas *c, int64_t row, int64_t col, const double *img, int64_t stride, double lo, double hi)
{
	for (int64_t y = 0; y < c->side; y++)
		for (int64_t x = 0; x < c->side; x++) {
			double v = (img[(y * c->side + x) * stride] - lo) / (hi - lo);
			c->px[(row * (c->side + 1) + 1 + y) * c->w + col * (c->side + 1) + 1 + x] = v;
		}
}

const char *rt_gnuplot_quoted(const char *s)
{
	size_t n = strlen(s), k = 0;
	char *q = rt_alloc(2 * n + 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\'')
			q[k++] = '\'';
		q[k++] = s[i];
	}
	q[k] = '\0';
	return q;
}

FILE *rt_temporary(char *name)
{
	int fd = mkstemp(name);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f)
		rt_fatal(RT_EXIT_IO, "cannot write a temporary file for gnuplot in /tmp");
	return f;
}

/* gnuplot reads the script from a file rather than a pipe: a gnuplot that
 * is missing or dies early would otherwise end the trainer by SIGPIPE. */
void rt_gnuplot(const char *script, const char *part, const char *png)
{
	fflush(stdout);
	int status = system(rt_printf("gnuplot %s 1>&2", script));
	if (status != 0 || access(part, R_OK) != 0) {
		unlink(part);
		rt_fatal(RT_EXIT_IO, "gnuplot failed to draw %s (is gnuplot installed? Debian: gnuplot-nox)", png);
	}
	if (rename(part, png) != 0)
		rt_fatal(RT_EXIT_IO, "cannot rename %s to %s", part, png);
}

void rt_canvas_png(const RtCanvas *c, const char *png, const char *title)
{
	char data[] = "/tmp/nnrt-png-XXXXXX", script[] = "/tmp/nnrt-gp-XXXXXX";
	FILE *f = rt_temporary(data);
	for (int64_t y = 0; y < c->h; y++)   /* gnuplot's matrix has row 0 at the bottom */
		for (int64_t x = 0; x < c->w; x++)
			fprintf(f, "%.4f%c", c->px[(c->h - 1 - y) * c->w + x], x + 1 < c->w ? ' ' : '\n');
	fclose(f);
	char *part = rt_printf("%s.part", png);
	int scale = c->w < 400 ? 4 : 2;
	FILE *g = rt_temporary(script);
	fprintf(g, "set terminal png noenhanced size %lld,%lld\nset output '%s'\nset title '%s'\n"
	        "unset key; unset tics; unset border; unset colorbox\nset palette gray\nset cbrange [0:1]\n"
	        "set size ratio -1\nset margins 0,0,0,2\nplot '%s' matrix with image pixels\n",
	        (long long)(c->w * scale), (long long)(c->h * scale + 30), rt_gnuplot_quoted(part),
	        rt_gnuplot_quoted(title), data);
	fclose(g);
	rt_gnuplot(script, part, png);
	unlink(data);
	unlink(script);
	printf("wrote %s (%lldx%lld tiles)\n", png, (long long)c->rows, (long long)c->cols);
}
