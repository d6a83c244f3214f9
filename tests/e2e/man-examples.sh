#!/bin/sh
# The EXAMPLES of nn(5) are complete programs: each one, between
# `.\" example-begin NAME` and `.\" example-end`, is taken out of the page,
# stripped of roff, compiled and trained, and must reach a bound that a
# working compiler reaches and a broken one does not.
. "$(dirname "$0")/lib.sh"
page="$SRCDIR/man/nn.5"
[ -r "$page" ] || die "cannot read $page"

# Split the page into $work/NAME.nn, one per example; roff requests
# (.nf, .ft CR, ...) go, and the escapes the page uses become characters.
awk -v dir="$work" '
	/^\.\\" example-begin / { name = $3; out = dir "/" name ".nn"; print name; next }
	/^\.\\" example-end/ { if (out) close(out); out = ""; next }
	out && !/^\./ {
		gsub(/\\-/, "-"); gsub(/\\\(aq/, "\047"); gsub(/\\\(dq/, "\""); gsub(/\\&/, "")
		gsub(/\\e/, "\\")
		print > out
	}' "$page" >"$work/names" || die "cannot extract the examples"
[ "$(wc -l <"$work/names")" -ge 3 ] || die "nn(5) has $(wc -l <"$work/names") examples, expected at least 3"
grep -q '\\' "$work"/*.nn && { grep -n '\\' "$work"/*.nn; die "a roff escape is left in an example"; }

# run NAME ARGS...: run the trainer of example NAME into $work/NAME.out
run() {
	n=$1; shift
	"$work/$n" "$@" >"$work/$n.out" 2>&1 || { tail -20 "$work/$n.out"; die "$n $* failed"; }
	tail -2 "$work/$n.out"
}

for name in $(cat "$work/names"); do
	echo "== $name"
	compile "$name" "$work/$name.nn"
	case $name in
	xor)
		# 2000 epochs of the four XOR points: the fit is near exact
		# (a network that cannot represent XOR stays at 0.25).
		cp "$SRCDIR/examples/data/xor.csv" "$work/xor.csv"
		run xor train
		at_most "$(metric "$work/xor.out" train.loss)" 0.02 "xor train.loss" ;;
	memorize)
		# 64 points in 4 random classes: chance is accuracy 0.25 and loss
		# ln 4 = 1.39; enough capacity and steps learn every point.
		run memorize gradcheck
		run memorize train
		at_least "$(metric "$work/memorize.out" train.accuracy)" 0.95 "memorize train.accuracy"
		at_most "$(metric "$work/memorize.out" train.loss)" 0.1 "memorize train.loss" ;;
	reg)
		# f64: gradcheck's default tolerance is 1e-6; the random targets
		# have variance 1, and 32 of them are fitted far below it.
		run reg gradcheck
		run reg train
		at_most "$(metric "$work/reg.out" loss)" 0.1 "reg training loss" ;;
	bas)
		# 8x8 bars and stripes, 2000 images: CD-1 takes the exact
		# log-likelihood from about -44 nats (64 ln 1/2) to about -26; the
		# data's own entropy, ln 510, bounds it at -6.2.
		awk 'BEGIN { srand(1); for (n = 0; n < 2000; n++) { o = rand() < 0.5; for (k = 0; k < 8; k++) on[k] = rand() < 0.5
			s = ""; for (r = 0; r < 8; r++) for (c = 0; c < 8; c++) s = s (r + c ? "," : "") on[o ? r : c]; print s } }' >"$work/bas.csv"
		run bas train --save "$work/bas.st"
		run bas partition --load "$work/bas.st"
		at_least "$(metric "$work/bas.out" train.loglik)" -32 "bas exact log-likelihood per image"
		at_most "$(metric "$work/bas.out" train.loglik)" -6.2 "bas exact log-likelihood per image" ;;
	fashion)
		# One epoch of a 784-128-10 MLP: about 0.84 (chance is 0.10;
		# logistic regression reaches 0.80 in one epoch).
		if [ ! -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
			echo "skip: fashion (no Fashion-MNIST in /usr/share/datasets/fashion-mnist)"
			continue
		fi
		run fashion train --epochs 1
		at_least "$(metric "$work/fashion.out" test.accuracy)" 0.80 "fashion test.accuracy" ;;
	bigram)
		# One epoch on the fortunes: about 3.8 bits per character (from 7,
		# log2 of 128 classes; a bigram of English letters is near 3.6);
		# the page shows the sample that follows.
		if [ ! -d /usr/share/games/fortunes ]; then
			echo "skip: bigram (no fortunes in /usr/share/games/fortunes)"
			continue
		fi
		run bigram train --save "$work/bigram.safetensors"
		at_most "$(metric "$work/bigram.out" valid.bpc)" 4.0 "bigram valid.bpc"
		run bigram sample --load "$work/bigram.safetensors" --prompt "The " --length 60 --seed 3
		sed -n '/^The litry/p' "$SRCDIR/man/nn.5" | cmp -s - "$work/bigram.out" ||
			die "the sample in nn(5) is not what bigram sample prints: $(cat "$work/bigram.out")" ;;
	*)
		die "example '$name' of nn(5) has no check in $0" ;;
	esac
done
echo "ok: every example of nn(5) compiles and trains"
