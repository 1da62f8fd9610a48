package llm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Packing several documents into one training row, instead of giving each its own row padded to the
 * row length. Two things keep the documents apart inside a row: the position ids restart at 0 for
 * every document (so RoPE sees each one from its start), and the causal mask becomes block-diagonal
 * (a token sees only earlier tokens of its own document).
 *
 * <p>Documents longer than a row are first cut into row-sized pieces, in both schemes.
 */
public final class SequencePacking {

    private SequencePacking() {}

    /** One packed row: the lengths of the pieces in it, in order. */
    public record Row(int[] pieces) {
        public int used() { return Arrays.stream(pieces).sum(); }
    }

    /** Position ids of documents packed one after another: 0, 1, .., len-1 for each. */
    public static int[] positionIds(int... lengths) {
        int[] ids = new int[Arrays.stream(lengths).sum()];
        int at = 0;
        for (int length : lengths) for (int p = 0; p < length; p++) ids[at++] = p;
        return ids;
    }

    /** The document each position of a packed row belongs to: 0 for the first, 1 for the second... */
    public static int[] documentIds(int... lengths) {
        int[] ids = new int[Arrays.stream(lengths).sum()];
        int at = 0;
        for (int d = 0; d < lengths.length; d++) for (int p = 0; p < lengths[d]; p++) ids[at++] = d;
        return ids;
    }

    /** The block-diagonal causal mask: query i sees key j if j <= i and both are in the same document. */
    public static boolean[][] blockDiagonalCausalMask(int... lengths) {
        int[] document = documentIds(lengths);
        int n = document.length;
        boolean[][] mask = new boolean[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) mask[i][j] = document[i] == document[j];
        return mask;
    }

    /** Every document cut into pieces of at most {@code rowLength} tokens (the last piece shorter). */
    public static int[] pieces(int[] lengths, int rowLength) {
        if (rowLength < 1) throw new IllegalArgumentException("the row length must be at least 1, got " + rowLength);
        List<Integer> pieces = new ArrayList<>();
        for (int length : lengths) {
            if (length < 1) throw new IllegalArgumentException("a document must have at least 1 token, got " + length);
            for (int left = length; left > 0; left -= rowLength) pieces.add(Math.min(left, rowLength));
        }
        return pieces.stream().mapToInt(Integer::intValue).toArray();
    }

    /** First-fit decreasing: the longest pieces first, each into the first row with room for it. */
    public static List<Row> pack(int[] lengths, int rowLength) {
        int[] pieces = pieces(lengths, rowLength);
        Integer[] order = new Integer[pieces.length];
        for (int i = 0; i < order.length; i++) order[i] = pieces[i];
        Arrays.sort(order, (a, b) -> b - a);
        List<List<Integer>> rows = new ArrayList<>();
        List<Integer> free = new ArrayList<>();
        for (int piece : order) {
            int row = 0;
            while (row < rows.size() && free.get(row) < piece) row++;
            if (row == rows.size()) { rows.add(new ArrayList<>()); free.add(rowLength); }
            rows.get(row).add(piece);
            free.set(row, free.get(row) - piece);
        }
        return rows.stream().map(r -> new Row(r.stream().mapToInt(Integer::intValue).toArray())).toList();
    }

    /** Share of the slots that are padding when every piece gets its own row of {@code rowLength}. */
    public static double paddingWaste(int[] lengths, int rowLength) {
        int[] pieces = pieces(lengths, rowLength);
        return 1 - (double) Arrays.stream(pieces).asLongStream().sum() / ((long) pieces.length * rowLength);
    }

    /** Share of the slots that are still padding after {@link #pack}. */
    public static double packingWaste(int[] lengths, int rowLength) {
        List<Row> rows = pack(lengths, rowLength);
        long used = rows.stream().mapToLong(Row::used).sum();
        return 1 - (double) used / ((long) rows.size() * rowLength);
    }
}
