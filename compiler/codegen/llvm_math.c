/* llvm_math.c — exp, log, pow, tanh and erf written as plain IR arithmetic for f32.
 *
 * llvm.exp.*, llvm.log.* and llvm.pow.* have no vector lowering without a
 * vector math library, so a vectorized loop would call expf once per lane.
 * For f32 we expand exp into range reduction, a Cephes polynomial and an
 * exponent-field build, and log into an exponent-field split and a Cephes
 * polynomial, all of which the vectorizer widens; tanh, pow and erf follow
 * from them.  The error is about 2 ulp (pow: see pow_f32).  f64 keeps the libm-accurate intrinsic: f64 programs are
 * the gradient checks, where accuracy matters more than speed. */
#include <math.h>
#include "llvm_gen.h"

static LLVMValueRef fc(Gen *g, double v)
{
	return LLVMConstReal(g->f32, v);
}

static LLVMValueRef mul_(Gen *g, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildFMul(g->b, a, b, "");
}

static LLVMValueRef add_(Gen *g, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildFAdd(g->b, a, b, "");
}

static LLVMValueRef sel(Gen *g, LLVMRealPredicate p, LLVMValueRef a, LLVMValueRef b,
			LLVMValueRef yes, LLVMValueRef no)
{
	return LLVMBuildSelect(g->b, LLVMBuildFCmp(g->b, p, a, b, ""), yes, no, "");
}

/* Horner's rule, coefficients from the highest degree down. */
static LLVMValueRef poly(Gen *g, LLVMValueRef x, const double *c, int n)
{
	LLVMValueRef p = fc(g, c[0]);
	for (int i = 1; i < n; i++)
		p = add_(g, mul_(g, p, x), fc(g, c[i]));
	return p;
}

/* exp(x) = 2^n e^r, n = round(x / ln 2), |r| <= ln2 / 2 (Cephes expf). */
static LLVMValueRef exp_f32(Gen *g, LLVMValueRef x)
{
	static const double c[6] = { 1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
				     4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1 };
	const double hi = 88.3762626647949, lo = -87.3365478515625;
	LLVMValueRef cx = sel(g, LLVMRealOGT, x, fc(g, hi), fc(g, hi), x);
	cx = sel(g, LLVMRealOLT, cx, fc(g, lo), fc(g, lo), cx);
	LLVMValueRef n = gen_intrinsic(g, "llvm.floor", g->f32,
				       (LLVMValueRef[]){ add_(g, mul_(g, cx, fc(g, 1.44269504088896341)), fc(g, 0.5)) }, 1);
	LLVMValueRef r = add_(g, cx, mul_(g, n, fc(g, -0.693359375)));
	r = add_(g, r, mul_(g, n, fc(g, 2.12194440e-4)));
	LLVMValueRef p = poly(g, r, c, 6);
	LLVMValueRef y = add_(g, add_(g, mul_(g, mul_(g, p, r), r), r), fc(g, 1));
	LLVMValueRef e = LLVMBuildFPToSI(g->b, n, g->i32, "");
	e = LLVMBuildShl(g->b, LLVMBuildAdd(g->b, e, LLVMConstInt(g->i32, 127, 0), ""), LLVMConstInt(g->i32, 23, 0), "");
	y = mul_(g, y, LLVMBuildBitCast(g->b, e, g->f32, ""));
	/* below the normal range the answer is 0 (not the clamp's 1e-38);
	 * above it, infinity; NaN stays NaN */
	y = sel(g, LLVMRealOLT, x, fc(g, lo), fc(g, 0), y);
	y = sel(g, LLVMRealOGT, x, fc(g, hi), fc(g, INFINITY), y);
	return sel(g, LLVMRealUNO, x, x, x, y);
}

LLVMValueRef gen_exp(Gen *g, LLVMValueRef x)
{
	if (LLVMTypeOf(x) == g->f32)
		return exp_f32(g, x);
	return gen_intrinsic(g, "llvm.exp", LLVMTypeOf(x), &x, 1);
}

/* log(x) = e ln 2 + log(1 + f), x = 2^e (1 + f) with 1 + f in [sqrt(1/2),
 * sqrt(2)) read from the bits (Cephes logf); subnormals are scaled by 2^23
 * first.  Below zero NaN, at zero -inf, infinity and NaN themselves. */
static LLVMValueRef log_f32(Gen *g, LLVMValueRef x)
{
	static const double c[9] = { 7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1,
				     -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
				     2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1 };
	LLVMValueRef tiny = LLVMBuildFCmp(g->b, LLVMRealOLT, x, fc(g, 1.17549435e-38), "");
	LLVMValueRef sx = LLVMBuildSelect(g->b, tiny, mul_(g, x, fc(g, 8388608.0)), x, "");
	LLVMValueRef bits = LLVMBuildBitCast(g->b, sx, g->i32, "");
	LLVMValueRef e = LLVMBuildSub(g->b, LLVMBuildLShr(g->b, bits, LLVMConstInt(g->i32, 23, 0), ""),
				      LLVMConstInt(g->i32, 126, 0), "");
	LLVMValueRef mbits = LLVMBuildOr(g->b, LLVMBuildAnd(g->b, bits, LLVMConstInt(g->i32, 0x007fffff, 0), ""),
					 LLVMConstInt(g->i32, 0x3f000000, 0), "");
	LLVMValueRef m = LLVMBuildBitCast(g->b, mbits, g->f32, "");          /* [0.5, 1) */
	LLVMValueRef fe = LLVMBuildSIToFP(g->b, e, g->f32, "");
	fe = LLVMBuildSelect(g->b, tiny, LLVMBuildFSub(g->b, fe, fc(g, 23), ""), fe, "");
	LLVMValueRef low = LLVMBuildFCmp(g->b, LLVMRealOLT, m, fc(g, 0.707106781186547524), "");
	fe = LLVMBuildSelect(g->b, low, LLVMBuildFSub(g->b, fe, fc(g, 1), ""), fe, "");
	m = LLVMBuildSelect(g->b, low, add_(g, m, m), m, "");
	m = LLVMBuildFSub(g->b, m, fc(g, 1), "");
	LLVMValueRef z = mul_(g, m, m);
	LLVMValueRef y = mul_(g, mul_(g, poly(g, m, c, 9), m), z);
	y = add_(g, y, mul_(g, fe, fc(g, -2.12194440e-4)));
	y = add_(g, y, mul_(g, z, fc(g, -0.5)));
	y = add_(g, add_(g, m, y), mul_(g, fe, fc(g, 0.693359375)));
	y = sel(g, LLVMRealOEQ, x, fc(g, 0), fc(g, -INFINITY), y);
	y = sel(g, LLVMRealOLT, x, fc(g, 0), fc(g, NAN), y);
	y = sel(g, LLVMRealOEQ, x, fc(g, INFINITY), x, y);
	return sel(g, LLVMRealUNO, x, x, x, y);
}

LLVMValueRef gen_log(Gen *g, LLVMValueRef x)
{
	if (LLVMTypeOf(x) == g->f32)
		return log_f32(g, x);
	return gen_intrinsic(g, "llvm.log", LLVMTypeOf(x), &x, 1);
}

/* x^y = exp(y log|x|), its sign from x when y is an odd integer; NaN for
 * x < 0 and y not an integer; x^0 = 1^y = 1, 0^y = 0 (y > 0) or inf
 * (y < 0).  The relative error is about (2 + |y ln x|) ulp: log's error
 * scaled by y, then exp's. */
static LLVMValueRef pow_f32(Gen *g, LLVMValueRef x, LLVMValueRef y)
{
	LLVMValueRef ax = gen_intrinsic(g, "llvm.fabs", g->f32, &x, 1);
	LLVMValueRef r = exp_f32(g, mul_(g, y, log_f32(g, ax)));
	LLVMValueRef fy = gen_intrinsic(g, "llvm.floor", g->f32, &y, 1);
	LLVMValueRef half = mul_(g, y, fc(g, 0.5));
	LLVMValueRef fh = gen_intrinsic(g, "llvm.floor", g->f32, &half, 1);
	LLVMValueRef integer = LLVMBuildFCmp(g->b, LLVMRealOEQ, fy, y, "");
	LLVMValueRef odd = LLVMBuildAnd(g->b, integer, LLVMBuildFCmp(g->b, LLVMRealONE, fh, half, ""), "");
	LLVMValueRef neg = LLVMBuildSelect(g->b, odd, LLVMBuildFNeg(g->b, r, ""), r, "");
	neg = LLVMBuildSelect(g->b, integer, neg, fc(g, NAN), "");
	r = sel(g, LLVMRealOLT, x, fc(g, 0), neg, r);
	LLVMValueRef zero = sel(g, LLVMRealOLT, y, fc(g, 0), fc(g, INFINITY), fc(g, 0));
	r = sel(g, LLVMRealOEQ, x, fc(g, 0), zero, r);
	r = sel(g, LLVMRealOEQ, x, fc(g, 1), fc(g, 1), r);
	return sel(g, LLVMRealOEQ, y, fc(g, 0), fc(g, 1), r);
}

LLVMValueRef gen_pow(Gen *g, LLVMValueRef x, LLVMValueRef y)
{
	if (LLVMTypeOf(x) == g->f32)
		return pow_f32(g, x, y);
	LLVMValueRef a[2] = { x, y };
	return gen_intrinsic(g, "llvm.pow", LLVMTypeOf(x), a, 2);
}

/* tanh |x| = 1 - 2 / (e^{2|x|} + 1), which cancels near 0, where the odd
 * Taylor series to x^7 is exact to f32 precision below 1/16. */
static LLVMValueRef tanh_f32(Gen *g, LLVMValueRef x)
{
	static const double c[4] = { -17.0 / 315, 2.0 / 15, -1.0 / 3, 1 };
	LLVMValueRef t = gen_intrinsic(g, "llvm.fabs", g->f32, &x, 1);
	LLVMValueRef e = exp_f32(g, add_(g, t, t));
	LLVMValueRef big = LLVMBuildFSub(g->b, fc(g, 1), LLVMBuildFDiv(g->b, fc(g, 2), add_(g, e, fc(g, 1)), ""), "");
	LLVMValueRef small = mul_(g, t, poly(g, mul_(g, t, t), c, 4));
	LLVMValueRef r = sel(g, LLVMRealOLT, t, fc(g, 0.0625), small, big);
	LLVMValueRef a[2] = { r, x };
	return gen_intrinsic(g, "llvm.copysign", g->f32, a, 2);
}

LLVMValueRef gen_tanh(Gen *g, LLVMValueRef x)
{
	if (LLVMTypeOf(x) == g->f32)
		return tanh_f32(g, x);
	return gen_call(g, "tanh", &x, 1);
}

/* erf |x| = |x| P(x^2) below 1, where erfc would cancel; above, 1 -
 * erfc |x| with erfc t = exp(-t^2 + Q(t - 2.5)), Q fitting log erfc t + t^2
 * on [1, 3.93] (weighted by erfc / erf, the error erf sees); from 3.93 on
 * erf is 1 in f32.  P and Q are weighted least-squares fits (degrees 5
 * and 6).  Against libm's erf in double, over every float with a normal
 * result: at most 1.8e-7 relative (3 ulp), the rounding of P's Horner
 * steps; GELU's erf no longer calls libm per element. */
static LLVMValueRef erf_f32(Gen *g, LLVMValueRef x)
{
	static const double p[6] = { -5.6541058596e-04, 4.9232776652e-03, -2.6716385097e-02,
				     1.1280364408e-01, -3.7612349785e-01, 1.1283791274e+00 };
	static const double q[7] = { 1.8723421225e-04, -1.4729707079e-04, 2.4753465647e-03, -1.0700948684e-02,
				     5.6122024989e-02, -3.5269294079e-01, -1.5568178783e+00 };
	LLVMValueRef t = gen_intrinsic(g, "llvm.fabs", g->f32, &x, 1);
	LLVMValueRef small = mul_(g, x, poly(g, mul_(g, x, x), p, 6));
	LLVMValueRef tc = sel(g, LLVMRealOGT, t, fc(g, 3.93), fc(g, 3.93), t);   /* NaN stays NaN */
	LLVMValueRef arg = add_(g, LLVMBuildFNeg(g->b, mul_(g, tc, tc), ""),
				poly(g, LLVMBuildFSub(g->b, tc, fc(g, 2.5), ""), q, 7));
	LLVMValueRef big = LLVMBuildFSub(g->b, fc(g, 1), exp_f32(g, arg), "");
	LLVMValueRef a[2] = { big, x };
	big = gen_intrinsic(g, "llvm.copysign", g->f32, a, 2);
	return sel(g, LLVMRealOLT, t, fc(g, 1), small, big);
}

LLVMValueRef gen_erf(Gen *g, LLVMValueRef x)
{
	if (LLVMTypeOf(x) == g->f32)
		return erf_f32(g, x);
	return gen_call(g, "erf", &x, 1);
}
