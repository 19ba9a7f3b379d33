# ckeras plot (issue 16): plot_model through libgvc for each format, model_to_dot's
# text on stdout equal to Keras's golden, and bad options or formats refused with
# one line and nothing written.
G=../golden
ptmp=$(mktemp -d)
for fmt in png svg pdf dot; do
  expect 0 "wrote $ptmp/classic.$fmt" -- "$CKERAS" plot $G/core/classic/config.json --output $ptmp/classic.$fmt --show-shapes
done
plot_is_png() { "$CKERAS" plot $G/core/nested_seq_in_func/config.json --output $ptmp/n.png --expand-nested --show-trainable >/dev/null && head -c 4 $ptmp/n.png | od -c | grep -q "211   P   N   G" && echo "is a png"; }
expect 0 "is a png" -- plot_is_png
plot_dot_matches() {
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cases"][2]["dot"], end="")' $G/plot/core__functional_spec.json > $ptmp/want.dot &&
  "$CKERAS" plot $G/core/functional_spec/config.json --output - --show-layer-names --show-shapes --show-dtype \
    --show-layer-activations --show-trainable | cmp - $ptmp/want.dot && echo "dot matches Keras"; }
expect 0 "dot matches Keras" -- plot_dot_matches
expect 0 "splines=curved;" -- "$CKERAS" plot $G/core/classic/config.json --output - --splines curved --rankdir LR --dpi 96
# -o is --output (as in cc, curl, ffmpeg), the spelling the issue and plot_model users reach for
plot_short_o() { "$CKERAS" plot $G/core/classic/config.json -o - --show-shapes > $ptmp/short.dot &&
  "$CKERAS" plot $G/core/classic/config.json --output - --show-shapes | cmp - $ptmp/short.dot && echo "-o is --output"; }
expect 0 "-o is --output" -- plot_short_o
expect 0 "wrote $ptmp/o.svg" -- "$CKERAS" plot $G/core/classic/config.json -o $ptmp/o.svg
expect 2 "-o needs a value" -- "$CKERAS" plot $G/core/classic/config.json -o
expect 2 "unknown option '-o'" -- "$CKERAS" summary $G/core/classic/config.json -o x
expect 2 "unknown option '--bogus'" -- "$CKERAS" plot $G/core/classic/config.json --bogus
expect 2 "--rankdir is one of TB|LR, got 'XY'" -- "$CKERAS" plot $G/core/classic/config.json --output $ptmp/x.png --rankdir XY
expect 1 "cannot write format 'bmpx'" -- "$CKERAS" plot $G/core/classic/config.json --output $ptmp/x.bmpx
expect 1 "has not yet been built" -- "$CKERAS" plot $G/core/empty_sequential/config.json --output $ptmp/e.png
plot_left_nothing() { ls $ptmp | grep -q "^x\.\|^e\.\|tmp" && echo "left files" || echo "nothing left"; }
expect 0 "nothing left" -- plot_left_nothing
rm -rf "$ptmp"
