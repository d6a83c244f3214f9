/* llvm_math.c — exp and tanh written as plain IR arithmetic for f32.
 *
 * llvm.exp.* has no vector lowering without a vector math library, so a
 * vectorized loop would call expf once per lane.  For f32 we expand exp
 * into range reduction, a Cephes polynomial and an exponent-field build,
 * all of which the vectorizer widens; tanh follows from it.  The error is
 * about 2 ulp.  f64 keeps the libm-accurate intrinsic: f64 programs are
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
	LLVMTypeRef t = g->f64;
	return gen_call(g, "tanh", t, &t, 1, &x);
}
