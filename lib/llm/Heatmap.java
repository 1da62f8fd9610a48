package llm;

import java.util.List;
import java.util.Locale;

/**
 * A matrix as text for a terminal: attention weights (rows: the token that looks, columns: the
 * tokens it looks at) or a mask (who may look at whom). In colour every cell is shaded by its value
 * with 24-bit escapes, as {@link TokenColors} paints tokens; without colour the numbers alone remain,
 * so a pipe or a log still shows everything.
 */
public final class Heatmap {

    private static final String ESC = "\u001b[";
    private static final String RESET = ESC + "0m";
    /** Cells shade from a dark grey (0) to the course palette's orange (1). */
    private static final int[] LOW = {40, 40, 40}, HIGH = {252, 141, 98};
    /** A mask cell that may look: the palette's green. */
    private static final String ALLOWED = "102;194;165";
    private static final int MAX_LABEL = 12;

    private Heatmap() {}

    /**
     * Values in [0, 1] with two decimals, one row per row label, a header of column labels (cut to
     * the cell width). Values outside [0, 1] are shaded as 0 or 1 but printed as they are.
     */
    public static String render(List<String> rowLabels, List<String> columnLabels, float[][] values, boolean color) {
        check(rowLabels, columnLabels, values.length, values.length == 0 ? 0 : values[0].length);
        int cell = Math.max(5, Math.min(7, widest(columnLabels)));
        int labelWidth = Math.min(MAX_LABEL, widest(rowLabels));
        StringBuilder out = new StringBuilder();
        header(out, columnLabels, labelWidth, cell);
        for (int i = 0; i < rowLabels.size(); i++) {
            out.append(pad(rowLabels.get(i), labelWidth)).append(' ');
            for (int j = 0; j < columnLabels.size(); j++) {
                String number = String.format(Locale.ROOT, "%" + cell + ".2f", values[i][j]);
                out.append(' ');
                if (color) {
                    float v = Math.clamp(values[i][j], 0f, 1f);
                    String bg = mix(v);
                    String fg = v > 0.45f ? "0;0;0" : "230;230;230";
                    out.append(ESC).append("48;2;").append(bg).append(';').append("38;2;").append(fg).append('m')
                            .append(number).append(RESET);
                } else {
                    out.append(number);
                }
            }
            out.append('\n');
        }
        return stripLines(out);
    }

    /**
     * A mask: {@code allowed[i][j]} says whether token i may attend to token j. Plain: {@code x} where it
     * may, {@code .} where it may not; in colour a green or a dark cell.
     */
    public static String mask(List<String> labels, boolean[][] allowed, boolean color) {
        check(labels, labels, allowed.length, allowed.length == 0 ? 0 : allowed[0].length);
        int cell = Math.max(3, Math.min(7, widest(labels)));
        int labelWidth = Math.min(MAX_LABEL, widest(labels));
        StringBuilder out = new StringBuilder();
        out.append(" ".repeat(labelWidth + 1));
        for (String label : labels) out.append(' ').append(center(cut(label, cell), cell));
        out.append('\n');
        for (int i = 0; i < labels.size(); i++) {
            out.append(pad(labels.get(i), labelWidth)).append(' ');
            for (int j = 0; j < labels.size(); j++) {
                out.append(' ');
                String mark = center(allowed[i][j] ? "x" : ".", cell);
                if (color) {
                    out.append(ESC).append("48;2;").append(allowed[i][j] ? ALLOWED : LOW[0] + ";" + LOW[1] + ";" + LOW[2])
                            .append(";38;2;").append(allowed[i][j] ? "0;0;0" : "120;120;120").append('m').append(mark).append(RESET);
                } else {
                    out.append(mark);
                }
            }
            out.append('\n');
        }
        return stripLines(out);
    }

    /** Without trailing spaces (in colour they sit before the reset escape, so nothing changes there). */
    private static String stripLines(StringBuilder text) {
        StringBuilder out = new StringBuilder();
        for (String line : text.toString().split("\n")) out.append(line.stripTrailing()).append('\n');
        return out.toString();
    }

    /** The shade of a value in [0, 1] as "R;G;B". */
    static String mix(float v) {
        int r = Math.round(LOW[0] + (HIGH[0] - LOW[0]) * v);
        int g = Math.round(LOW[1] + (HIGH[1] - LOW[1]) * v);
        int b = Math.round(LOW[2] + (HIGH[2] - LOW[2]) * v);
        return r + ";" + g + ";" + b;
    }

    private static void header(StringBuilder out, List<String> labels, int labelWidth, int cell) {
        out.append(" ".repeat(labelWidth + 1));
        for (String label : labels) out.append(' ').append(padLeft(label, cell));
        out.append('\n');
    }

    private static void check(List<String> rows, List<String> columns, int n, int m) {
        if (rows.size() != n || columns.size() != m)
            throw new IllegalArgumentException("a " + n + "x" + m + " matrix with " + rows.size() + " row and " + columns.size() + " column labels");
    }

    private static int widest(List<String> labels) {
        int w = 1;
        for (String s : labels) w = Math.max(w, TokenColors.visible(s).codePointCount(0, TokenColors.visible(s).length()));
        return w;
    }

    /** Cut to width (with … when cut) and padded on the right. */
    private static String pad(String label, int width) {
        String s = cut(label, width);
        return s + " ".repeat(width - s.codePointCount(0, s.length()));
    }

    private static String padLeft(String label, int width) {
        String s = cut(label, width);
        return " ".repeat(width - s.codePointCount(0, s.length())) + s;
    }

    private static String center(String s, int width) {
        int length = s.codePointCount(0, s.length());
        int left = (width - length) / 2;
        return " ".repeat(left) + s + " ".repeat(width - length - left);
    }

    private static String cut(String label, int width) {
        String s = TokenColors.visible(label);
        if (s.codePointCount(0, s.length()) <= width) return s;
        return s.substring(0, s.offsetByCodePoints(0, width - 1)) + "…";
    }
}
