/* test_augment.c — augment.c on small known images: a crop at offset
 * (dy, dx) moves every value and fills zeros, a flip mirrors columns and
 * keeps channel order, noise has the requested mean and deviation, and
 * every draw is a function of (seed, epoch, position) alone.  Also where
 * the image geometry comes from (shape: keys, an IDX file's dims). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nnrt_internal.h"
#include "check.h"

enum { H = 3, W = 4, C = 2, PER = H * W * C };

static char dir[] = "/tmp/nnrt-test-augment-XXXXXX";

/* value (y, x, c) of the test image, never 0 so a filled zero shows */
static double pixel(int64_t y, int64_t x, int64_t c)
{
	return 1 + 100 * (double)y + 10 * (double)x + (double)c;
}

static void fill(float *img)
{
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			for (int c = 0; c < C; c++)
				img[(y * W + x) * C + c] = (float)pixel(y, x, c);
}

static RtAugment geometry(int64_t crop, double flip, double noise, int64_t per, RtDType dt)
{
	RtAugment a = {.crop = crop, .flip = flip, .noise = noise, .height = H, .width = W, .channels = C,
	               .per = per, .views = 1};
	a.tmp = rt_alloc((size_t)(per * rt_dtype_size(dt)));
	return a;
}

/* What the shift must give, written out from the definition: padded
 * image coordinates (y + dy - crop, x' + dx - crop). */
static int shifted_ok(const float *img, int64_t crop, int64_t dy, int64_t dx, int mirror)
{
	for (int64_t y = 0; y < H; y++)
		for (int64_t x = 0; x < W; x++)
			for (int64_t c = 0; c < C; c++) {
				int64_t sy = y + dy - crop, sx = (mirror ? W - 1 - x : x) + dx - crop;
				double want = sy >= 0 && sy < H && sx >= 0 && sx < W ? pixel(sy, sx, c) : 0;
				if (img[(y * W + x) * C + c] != (float)want)
					return 0;
			}
	return 1;
}

static void test_shift(void)
{
	RtAugment a = geometry(1, 0, 0, PER, RT_F32);
	float img[PER], orig[PER];
	fill(orig);
	/* the identity crop (dy = dx = crop) leaves the image as it was */
	memcpy(img, orig, sizeof img);
	rt_augment_shift(&a, RT_F32, img, 1, 1, 0);
	CHECK(!memcmp(img, orig, sizeof img));
	/* dy 0, dx 2: the image moves down one row and left one column */
	rt_augment_shift(&a, RT_F32, img, 0, 2, 0);
	CHECK(shifted_ok(img, 1, 0, 2, 0));
	CHECK(img[0] == 0 && img[C * W - 1] == 0);                      /* top row: padding */
	CHECK(img[(1 * W + 0) * C + 1] == (float)pixel(0, 1, 1));       /* (1,0) <- (0,1) */
	CHECK(img[(2 * W + 3) * C + 0] == 0);                           /* last column: padding */
	/* every offset of a crop of 2, against the definition */
	RtAugment b = geometry(2, 0, 0, PER, RT_F32);
	int all = 1;
	for (int dy = 0; dy <= 4; dy++)
		for (int dx = 0; dx <= 4; dx++)
			for (int m = 0; m < 2; m++) {
				memcpy(img, orig, sizeof img);
				rt_augment_shift(&b, RT_F32, img, dy, dx, m);
				all &= shifted_ok(img, 2, dy, dx, m);
			}
	CHECK(all);
	/* a flip mirrors the columns; each pixel keeps its channels in order */
	memcpy(img, orig, sizeof img);
	rt_augment_shift(&a, RT_F32, img, 1, 1, 1);
	CHECK(img[0] == (float)pixel(0, 3, 0) && img[1] == (float)pixel(0, 3, 1));
	CHECK(img[(2 * W + 1) * C + 1] == (float)pixel(2, 2, 1));
	CHECK(shifted_ok(img, 1, 1, 1, 1));
	rt_augment_shift(&a, RT_F32, img, 1, 1, 1);
	CHECK(!memcmp(img, orig, sizeof img));                          /* twice: the original */
	/* f64 images take the same path with 8-byte values */
	RtAugment d = geometry(1, 0, 0, PER, RT_F64);
	double img64[PER];
	for (int i = 0; i < PER; i++)
		img64[i] = orig[i];
	rt_augment_shift(&d, RT_F64, img64, 2, 0, 1);
	for (int i = 0; i < PER; i++)
		img[i] = (float)img64[i];
	CHECK(shifted_ok(img, 1, 2, 0, 1));
	CHECK(img64[0] == pixel(1, 2, 0) && img64[(2 * W) * C] == 0);   /* (0,0) <- (1,2); last row padding */
}

static void test_draws(void)
{
	RtAugment a = geometry(2, 0.5, 0, PER, RT_F32);
	int seen[5][5] = {{0}}, mirrored = 0, n = 4000;
	for (int p = 0; p < n; p++) {
		RtAugmentDraw w = rt_augment_draw(&a, 7, 3, p, 0);
		if (w.dy < 0 || w.dy > 4 || w.dx < 0 || w.dx > 4) {
			CHECK(!"offset outside [0, 2 crop]");
			return;
		}
		seen[w.dy][w.dx]++;
		mirrored += w.mirror;
	}
	int every = 1;
	for (int i = 0; i < 25; i++)
		every &= seen[i / 5][i % 5] > n / 25 / 2;   /* 160 expected each */
	CHECK(every);
	CHECK(mirrored > n * 0.45 && mirrored < n * 0.55);
	/* the same (seed, epoch, position), the same draw; another, another */
	RtAugmentDraw x = rt_augment_draw(&a, 7, 3, 11, 0), y = rt_augment_draw(&a, 7, 3, 11, 0);
	CHECK(x.dy == y.dy && x.dx == y.dx && x.mirror == y.mirror && !memcmp(&x.rng, &y.rng, sizeof x.rng));
	int differ_epoch = 0, differ_seed = 0;
	for (int p = 0; p < 50; p++) {
		RtAugmentDraw u = rt_augment_draw(&a, 7, 3, p, 0), v = rt_augment_draw(&a, 7, 4, p, 0), s = rt_augment_draw(&a, 8, 3, p, 0);
		differ_epoch += u.dy != v.dy || u.dx != v.dx || u.mirror != v.mirror;
		differ_seed += u.dy != s.dy || u.dx != s.dx || u.mirror != s.mirror;
	}
	CHECK(differ_epoch > 30 && differ_seed > 30);
	/* flip 0 never mirrors, flip 1 always; no crop leaves the offsets at 0 */
	RtAugment never = geometry(0, 0, 0, PER, RT_F32), always = geometry(0, 1, 0, PER, RT_F32);
	int ok = 1;
	for (int p = 0; p < 200; p++) {
		RtAugmentDraw u = rt_augment_draw(&never, 1, 0, p, 0), v = rt_augment_draw(&always, 1, 0, p, 0);
		ok &= !u.mirror && v.mirror && u.dy == 0 && u.dx == 0 && v.dy == 0;
	}
	CHECK(ok);
}

static void test_noise(void)
{
	enum { N = 1000, SAMPLES = 100 };
	RtAugment a = {.noise = 0.1, .per = N, .views = 1};   /* no geometry: noise needs none */
	float *x = rt_alloc(sizeof(float) * N * SAMPLES);
	for (int i = 0; i < N * SAMPLES; i++)
		x[i] = 0.5f;
	rt_augment_batch(&a, RT_F32, x, SAMPLES, 3, 0, 0);
	double sum = 0, sq = 0, within1 = 0, within2 = 0;
	for (int i = 0; i < N * SAMPLES; i++) {
		double z = x[i] - 0.5;
		sum += z, sq += z * z;
		within1 += fabs(z) < 0.1, within2 += fabs(z) < 0.2;
	}
	double mean = sum / (N * SAMPLES), sd = sqrt(sq / (N * SAMPLES) - mean * mean);
	/* 100,000 draws: the mean's standard error is 0.0003, the deviation's 0.0002 */
	CHECK(fabs(mean) < 0.0015);
	CHECK(fabs(sd - 0.1) < 0.001);
	/* and Gaussian, not merely of that deviation: 68.27% within one, 95.45% within two
	 * (standard errors 0.0015 and 0.0007) */
	CHECK(fabs(within1 / (N * SAMPLES) - 0.6827) < 0.006);
	CHECK(fabs(within2 / (N * SAMPLES) - 0.9545) < 0.003);
	/* an odd count uses the last pair's first value only; f64 the same way */
	RtAugment b = {.noise = 2, .per = 3, .views = 1};
	double y[3] = {0, 0, 0};
	rt_augment_image(&b, RT_F64, y, 1, 0, 0, 0);
	CHECK(y[0] != 0 && y[1] != 0 && y[2] != 0 && y[0] != y[2]);
}

/* A batch is its samples, each by its position in the epoch: the batch
 * size and the place a run resumed from change nothing. */
static void test_positions(void)
{
	RtAugment a = geometry(1, 0.5, 0.05, PER, RT_F32);
	float batch[5 * PER], one[PER];
	for (int i = 0; i < 5; i++)
		fill(batch + i * PER);
	rt_augment_batch(&a, RT_F32, batch, 5, 9, 2, 20);
	int ok = 1;
	for (int i = 0; i < 5; i++) {
		fill(one);
		rt_augment_image(&a, RT_F32, one, 9, 2, 20 + i, 0);
		ok &= !memcmp(one, batch + i * PER, sizeof one);
	}
	CHECK(ok);
	fill(one);
	rt_augment_image(&a, RT_F32, one, 9, 2, 21, 0);
	CHECK(memcmp(one, batch, sizeof one) != 0);           /* position 20 differs from 21 */
	fill(one);
	rt_augment_image(&a, RT_F32, one, 10, 2, 20, 0);
	CHECK(memcmp(one, batch, sizeof one) != 0);           /* another seed */
}

static void write_file(const char *name, const void *data, size_t len)
{
	FILE *f = fopen(rt_printf("%s/%s", dir, name), "wb");
	fwrite(data, 1, len, f);
	fclose(f);
}

/* rt_augment_new and the geometry the loaders give it. */
static void test_new(void)
{
	RtDataSpec spec = {.precision = RT_F32, .x_per = 6, .data_dir = dir};
	/* IDX [2, 2, 3]: 2 rows, 3 columns, 1 channel; [2, 6]: no geometry */
	write_file("img.idx", "\0\0\x08\x03\0\0\0\2\0\0\0\2\0\0\0\3" "abcdefghijkl", 28);
	write_file("flat.idx", "\0\0\x08\x02\0\0\0\2\0\0\0\6" "abcdefghijkl", 24);
	RtKeyVal args[2] = {{"0", "img.idx", 0, 1}, {"flip", "0.5", 0.5, 0}};
	RtSource s = {.name = "train", .kind = NNRT_SOURCE_IDX, .arg = args, .narg = 2};
	RtData *d = rt_data_load(&s, &spec);
	CHECK(d->height == 2 && d->width == 3 && d->channels == 1);
	RtAugment *a = rt_augment_new(&s, d);
	CHECK(a && a->flip == 0.5 && a->crop == 0 && a->noise == 0 && a->width == 3);
	s.narg = 1;
	CHECK(rt_augment_new(&s, d) == NULL);                /* nothing asked, nothing done */
	args[0].str = "flat.idx";
	d = rt_data_load(&s, &spec);
	CHECK(d->height == 0 && d->width == 0);
	/* shape: given as keys wins over the file, and gives a CSV its geometry */
	RtKeyVal shaped[4] = {{"0", "flat.idx", 0, 1}, {"height", "3", 3, 0}, {"width", "1", 1, 0}, {"channels", "2", 2, 0}};
	RtSource t = {.name = "train", .kind = NNRT_SOURCE_IDX, .arg = shaped, .narg = 4};
	d = rt_data_load(&t, &spec);
	CHECK(d->height == 3 && d->width == 1 && d->channels == 2);
	write_file("img.csv", "1,2,3,4,5,6\n6,5,4,3,2,1\n", 24);
	shaped[0].str = "img.csv";
	t.kind = NNRT_SOURCE_CSV;
	d = rt_data_load(&t, &spec);
	CHECK(d->n == 2 && d->height == 3 && d->width == 1 && d->channels == 2);
	/* noise alone needs no geometry */
	RtKeyVal noisy[2] = {{"0", "img.csv", 0, 1}, {"noise", "0.1", 0.1, 0}};
	RtSource u = {.name = "train", .kind = NNRT_SOURCE_CSV, .arg = noisy, .narg = 2};
	d = rt_data_load(&u, &spec);
	a = rt_augment_new(&u, d);
	CHECK(d->height == 0 && a && a->noise == 0.1);
}

/* resize and erase on 28x28 one-channel images; views augmented apart. */
static void test_resize_erase_views(void)
{
	enum { S = 28, P = S * S };
	RtAugment a = {.resize = 0.3, .erase = 1, .height = S, .width = S, .channels = 1, .per = P, .views = 1};
	a.tmp = rt_alloc(sizeof(float) * P);
	int boxes_ok = 1, erased = 0, ramp_ok = 1, zeros_ok = 1;
	for (int p = 0; p < 300; p++) {
		RtAugmentDraw w = rt_augment_draw(&a, 5, 1, p, 0);
		RtBox b = w.area, e = w.erased;
		double area = (double)(b.h * b.w) / P, ratio = (double)b.w / (double)b.h;
		/* rounding a side moves the area and ratio a little off the drawn ones */
		boxes_ok &= b.on && b.y >= 0 && b.x >= 0 && b.y + b.h <= S && b.x + b.w <= S && area > 0.25
		            && ratio > 0.65 && ratio < 1.5;
		if (e.on) {
			erased++;
			double ea = (double)(e.h * e.w) / P;
			boxes_ok &= e.y >= 0 && e.x >= 0 && e.y + e.h <= S && e.x + e.w <= S && ea > 0.015 && ea < 0.36;
		}
		/* a ramp across the columns stays a ramp, over the box's columns only;
		 * the erased rectangle is zero and nothing else is */
		float img[P];
		for (int i = 0; i < P; i++)
			img[i] = 1 + (float)(i % S);
		rt_augment_image(&a, RT_F32, img, 5, 1, p, 0);
		for (int y = 0; y < S; y++)
			for (int x = 0; x < S; x++) {
				int in = e.on && y >= e.y && y < e.y + e.h && x >= e.x && x < e.x + e.w;
				float v = img[y * S + x];
				zeros_ok &= in ? v == 0 : v != 0;
				if (!in && x > 0 && !(e.on && y >= e.y && y < e.y + e.h && x - 1 >= e.x && x - 1 < e.x + e.w))
					ramp_ok &= v >= img[y * S + x - 1];
				if (!in)
					ramp_ok &= v >= 1 + (float)b.x - 1e-4f && v <= (float)(b.x + b.w) + 1e-4f;
			}
	}
	CHECK(boxes_ok);
	CHECK(erased == 300);   /* erase: 1 erases every image (the box found within ten tries) */
	CHECK(ramp_ok);
	CHECK(zeros_ok);
	/* two views of a sample: each the image augmented with its own draws */
	RtAugment v = {.flip = 0.5, .noise = 0.1, .height = S, .width = S, .channels = 1, .per = P, .views = 2};
	v.tmp = rt_alloc(sizeof(float) * P);
	float two[3 * 2 * P], one[P];
	for (int i = 0; i < 3 * 2 * P; i++)
		two[i] = (float)(i % P) / P;
	rt_augment_batch(&v, RT_F32, two, 3, 4, 0, 7);
	int same = 1;
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 2; k++) {
			for (int j = 0; j < P; j++)
				one[j] = (float)j / P;
			rt_augment_image(&v, RT_F32, one, 4, 0, 7 + i, k);
			same &= !memcmp(one, two + (i * 2 + k) * P, sizeof one);
		}
	CHECK(same);
	CHECK(memcmp(two, two + P, sizeof one) != 0);   /* the views differ */
}

int main(void)
{
	if (!mkdtemp(dir))
		return 99;
	test_shift();
	test_draws();
	test_noise();
	test_positions();
	test_resize_erase_views();
	test_new();
	return check_done_in(dir);
}
