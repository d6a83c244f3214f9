#!/bin/sh
# faults-data.sh — a compiled trainer fed bad data files (malformed,
# truncated, labels out of range, inputs that are not finite numbers in
# the program's float type): each case builds its files in a directory of
# its own, points --data-dir at it and wants exit 3, exactly one line on
# stderr naming the file and the problem, and nothing on stdout.  A good
# case first, so a failure means the data.
. "$(dirname "$0")/lib.sh"
command -v /usr/bin/python3 >/dev/null || { echo "SKIP: python3 builds the bad files"; exit 77; }

cat >"$work/idxm.nn" <<'EOF'
import layers
model m(x: f32[B, 4]) -> f32[B, 3] {
    return dense(x, 3)
}
train m {
    data train = idx("img.gz", "lab.gz")
    loss = cross_entropy(m(train.x), train.y)
    batch 4
    epochs 1
}
EOF
sed -e 's/idx("img.gz", "lab.gz")/csv("d.csv", label: -1)/' "$work/idxm.nn" >"$work/csvm.nn"
compile idxm "$work/idxm.nn"
compile csvm "$work/csvm.nn"

# One directory per case under $work/cases: NAME/img.gz, lab.gz or d.csv.
/usr/bin/python3 - "$work/cases" <<'PY' || die "could not build the bad files"
import gzip, os, struct, sys
root = sys.argv[1]
def idx(code, dims, vals):
    fmt = {8: "B", 9: "b", 0x0b: "h", 0x0c: "i", 0x0d: "f", 0x0e: "d"}[code]
    return bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) \
        + b"".join(struct.pack(">" + fmt, v) for v in vals)
good_img = idx(8, [10, 2, 2], [i % 7 for i in range(40)])
good_lab = idx(8, [10], [i % 3 for i in range(10)])
def case(name, img=None, lab=None, gz=True, csv=None):
    d = os.path.join(root, name); os.makedirs(d)
    for fname, data in (("img.gz", img), ("lab.gz", lab)):
        if data is None: continue
        with open(os.path.join(d, fname), "wb") as f:
            f.write(gzip.compress(data) if gz and not isinstance(data, tuple) else
                    data[0] if isinstance(data, tuple) else data)
    if csv is not None:
        open(os.path.join(d, "d.csv"), "w").write(csv)
raw = lambda b: (b,)      # written as is, not gzipped
case("good", good_img, good_lab)
case("good_plain", good_img, good_lab, gz=False)
case("missing_images", None, good_lab)
case("missing_labels", good_img, None)
case("truncated_gz", raw(gzip.compress(good_img)[:30]), good_lab)
case("truncated_plain", raw(good_img[:30]), good_lab)
case("truncated_header", raw(good_img[:9]), good_lab)
case("corrupt_gz", raw(b"\x1f\x8b\x08\x00" + bytes(range(60))), good_lab)
case("not_gzip_not_idx", raw(b"hello, this is text\n" * 4), good_lab)
case("wrong_magic", raw(b"\x01\x02" + good_img[2:]), good_lab)
case("wrong_element_type", raw(b"\x00\x00\x07" + good_img[3:]), good_lab)
case("float_labels", good_img, idx(0x0d, [10], [0.5] * 10))
case("negative_label", good_img, idx(9, [10], [0] * 9 + [-1]))
case("label_out_of_range", good_img, idx(8, [10], [0] * 9 + [3]))
case("count_mismatch", good_img, idx(8, [9], [0] * 9))
case("image_size", idx(8, [10, 5], [1] * 50), good_lab)
case("label_shape", good_img, idx(8, [10, 2], [0] * 20))
case("no_samples", idx(8, [0, 2, 2], []), idx(8, [0], []))
case("huge_dims", raw(idx(8, [0x7fffffff, 0x7fffffff], [])), good_lab)
case("zero_dims", raw(bytes([0, 0, 8, 0])), good_lab)
case("empty_file", raw(b""), good_lab)
case("nan_image", idx(0x0d, [10, 2, 2], [0.5] * 13 + [float("nan")] + [0.5] * 26), good_lab)
case("inf_image", idx(0x0e, [10, 2, 2], [0.5] * 21 + [float("-inf")] + [0.5] * 18), good_lab)
case("f32_overflow", idx(0x0e, [10, 2, 2], [0.5] * 6 + [1e300] + [0.5] * 33), good_lab)
case("csv_good", csv="1,2,3,4,0\n5,6,7,8,1\n")
case("csv_bad_cell", csv="1,2,3,4,0\n5,6,x7,8,1\n")
case("csv_nan_cell", csv="1,2,3,4,0\n5,nan,7,8,1\n")
case("csv_short_row", csv="1,2,3,4,0\n5,6,7,1\n")
case("csv_wide", csv="1,2,3,4,5,0\n")
case("csv_bad_label", csv="1,2,3,4,0\n5,6,7,8,1.5\n")
case("csv_empty", csv="# only a comment\n\n")
os.makedirs(os.path.join(root, "dir_as_file", "img.gz"))
open(os.path.join(root, "dir_as_file", "lab.gz"), "wb").write(gzip.compress(good_lab))
PY

# bad NAME TRAINER PATTERN: exit 3, one line on stderr matching PATTERN
n=0
bad() {
	dir="$work/cases/$1"
	"$work/$2" train -q --data-dir "$dir" >"$work/out" 2>"$work/err"; rc=$?
	[ $rc -eq 3 ] || { cat "$work/err"; die "$1: exit $rc, want 3"; }
	[ "$(wc -l <"$work/err")" -eq 1 ] || { cat "$work/err"; die "$1: the error is not one line"; }
	[ ! -s "$work/out" ] || die "$1: printed results to stdout"
	grep -q -- "$3" "$work/err" || die "$1: '$(cat "$work/err")' does not match '$3'"
	n=$((n + 1))
	echo "ok: $1 -> exit 3: $(cat "$work/err")"
}

for good in good good_plain; do
	"$work/idxm" train -q --data-dir "$work/cases/$good" >"$work/out" 2>&1 || { cat "$work/out"; die "$good data failed"; }
done
"$work/csvm" train -q --data-dir "$work/cases/csv_good" >"$work/out" 2>&1 || { cat "$work/out"; die "good CSV failed"; }
echo "ok: the good IDX (gzip and plain) and CSV files train"

c=$work/cases
bad missing_images idxm "data file 'img.gz' not found (tried $c/missing_images/img.gz"
bad missing_labels idxm "data file 'lab.gz' not found"
bad truncated_gz idxm "$c/truncated_gz/img.gz: truncated IDX data (40 elements expected; gzip: "
bad truncated_plain idxm "$c/truncated_plain/img.gz: truncated IDX data (40 elements expected)"
bad truncated_header idxm "$c/truncated_header/img.gz: truncated IDX header"
bad corrupt_gz idxm "$c/corrupt_gz/img.gz: corrupt or truncated gzip data (gzip: "
bad not_gzip_not_idx idxm "$c/not_gzip_not_idx/img.gz: not an IDX file (bad magic 68 65 6c 6c; IDX starts 00 00), nor gzip"
bad wrong_magic idxm "$c/wrong_magic/img.gz: not an IDX file (bad magic 01 02 08 03"
bad wrong_element_type idxm "$c/wrong_element_type/img.gz: .*unknown element type 0x07"
bad float_labels idxm "$c/float_labels/lab.gz: sample 0: label 0.5 is not an integer in \[0, 3)"
bad negative_label idxm "$c/negative_label/lab.gz: sample 9: label -1 is not an integer in \[0, 3)"
bad label_out_of_range idxm "$c/label_out_of_range/lab.gz: sample 9: label 3 is not an integer in \[0, 3)"
bad count_mismatch idxm "$c/count_mismatch/img.gz has 10 samples but $c/count_mismatch/lab.gz has 9 labels"
bad image_size idxm "$c/image_size/img.gz: 5 elements per sample, but the model input takes 4"
bad label_shape idxm "$c/label_shape/lab.gz: 2 values per label, but the model target takes 1"
bad no_samples idxm "data source 'train' (idx .*) has no samples"
bad huge_dims idxm "$c/huge_dims/img.gz: IDX dimensions too large"
bad zero_dims idxm "$c/zero_dims/img.gz: IDX file with 0 dimensions"
bad empty_file idxm "$c/empty_file/img.gz: not an IDX file (shorter than its header)"
bad nan_image idxm "$c/nan_image/img.gz: sample 3, value 1 is nan: inputs must be finite"
bad inf_image idxm "$c/inf_image/img.gz: sample 5, value 1 is -inf: inputs must be finite"
bad f32_overflow idxm "$c/f32_overflow/img.gz: sample 1, value 2: 1e+300 (after scale) overflows f32"
bad dir_as_file idxm "$c/dir_as_file/img.gz is a directory, not a data file"
bad csv_bad_cell csvm "$c/csv_bad_cell/d.csv: row 2, column 3: 'x7' is not a finite number"
bad csv_nan_cell csvm "$c/csv_nan_cell/d.csv: row 2, column 2: 'nan' is not a finite number"
bad csv_short_row csvm "$c/csv_short_row/d.csv: row 2 has 4 columns, expected 5"
bad csv_wide csvm "$c/csv_wide/d.csv: 5 input columns, but the model input takes 4"
bad csv_bad_label csvm "$c/csv_bad_label/d.csv: sample 2: label 1.5 is not an integer"
bad csv_empty csvm "$c/csv_empty/d.csv: no data rows"
echo "ok: $n bad data files, each refused with exit 3 and one line"
