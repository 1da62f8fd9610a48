///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION Lesson 10: the 2017 block vs today's; RoPE (rotations, frequencies, relative positions); packing documents into training rows.
//DEPS info.picocli:picocli:4.7.7
//SOURCES ../lib/llm/Cli.java
//SOURCES ../lib/llm/TokenColors.java
//SOURCES ../lib/llm/Attention.java
//SOURCES ../lib/llm/SequencePacking.java

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import llm.Attention;
import llm.Attention.RopeStyle;
import llm.Cli;
import llm.SequencePacking;
import llm.TokenColors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Lesson 10, "Recent improvements to the transformer architecture": what changed in the block since
 * 2017, rotary position embeddings shown with numbers, and packing several documents into one
 * training row.
 */
@Command(name = "rope", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The 2017 transformer block next to today's; RoPE: pairs of dimensions rotated by position,",
                "the frequency table and why q·k depends only on the distance; packing documents vs padding."})
public class Lesson10_RecentImprovements implements Callable<Integer> {

    @Option(names = "--head-size", paramLabel = "D", defaultValue = "96", description = "Head size for the RoPE tables (even, 2 to 512; default ${DEFAULT-VALUE}, Phi-3-mini's).")
    int headSize;

    @Option(names = "--base", paramLabel = "B", defaultValue = "10000", description = "RoPE base (default ${DEFAULT-VALUE}; Llama 3 uses 500000).")
    float base;

    @Option(names = "--docs", paramLabel = "N,N,...", split = ",", defaultValue = "3,2,4",
            description = "Lengths of the documents packed into one row in the drawing (default ${DEFAULT-VALUE}).")
    int[] docs;

    @Option(names = "--row-length", paramLabel = "N", defaultValue = "2048",
            description = "Training row length for the padding-vs-packing count (default ${DEFAULT-VALUE}).")
    int rowLength;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "10", description = "Seed of the random vectors and document lengths (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--color", paramLabel = "auto|always|never", defaultValue = "auto",
            description = "Colour: auto (default: only on a terminal without NO_COLOR), always, never.")
    TokenColors.Choice color;

    final PrintStream out = System.out;
    TokenColors colors;

    public static void main(String[] args) {
        System.exit(Cli.run(new Lesson10_RecentImprovements(), args));
    }

    @Override
    public Integer call() {
        if (headSize < 2 || headSize > 512 || headSize % 2 != 0) throw new IllegalArgumentException("--head-size must be even, 2 to 512, got " + headSize);
        if (!(base > 1) || Float.isInfinite(base)) throw new IllegalArgumentException("--base must be a number above 1, got " + base);
        if (rowLength < 16 || rowLength > 1_000_000) throw new IllegalArgumentException("--row-length must be 16 to 1000000, got " + rowLength);
        int docTotal = 0;
        for (int d : docs) {
            if (d < 1) throw new IllegalArgumentException("--docs: every length must be at least 1, got " + d);
            docTotal += d;
        }
        if (docTotal > 32) throw new IllegalArgumentException("--docs: at most 32 tokens in all, so the drawing fits (got " + docTotal + ")");
        boolean useColor = TokenColors.useColor(color);
        TokenColors.installConsole(useColor);
        colors = new TokenColors(useColor, TokenColors.Mode.BACKGROUND);

        blocks();
        rotation();
        frequencies();
        relativePositions();
        packing();
        return 0;
    }

    // ---------------------------------------------------------------------------------------------

    void blocks() {
        heading("1. The transformer block, 2017 and now");
        String[][] rows = {
                {"", "2017 (Attention Is All You Need)", "2024 (Llama 3, Phi-3, Mixtral)"},
                {"where the norm goes", "after each sub-layer (post-norm)", "before each sub-layer (pre-norm)"},
                {"which norm", "LayerNorm: mean, variance, bias", "RMSNorm: root mean square only"},
                {"attention", "multi-head", "grouped-query (Llama 3: 8 KV heads)"},
                {"positions", "sinusoids added to the input", "RoPE: q and k rotated in every layer"},
                {"feed-forward", "ReLU, 2 matrices, 4 x d wide", "SwiGLU, 3 matrices, ~8/3 x d wide"},
                {"biases", "in every linear layer", "none"},
        };
        for (String[] row : rows) out.printf("  %-20s %-34s %s%n", row[0], row[1], row[2]);
        out.println();
        out.println("Pre-norm keeps a clean residual path from the input to the output, so deep stacks train stably.");
        float[] x = {2f, -1f, 0.5f, 3.5f};
        float[] ones = {1, 1, 1, 1}, normed = new float[4];
        Attention.rmsNorm(normed, 0, x, 0, ones, 4, 1e-6f);
        out.printf("RMSNorm(%s) = %s: divided by √mean(x²) = %.3f, nothing subtracted.%n", format(x), format(normed),
                Math.sqrt((4 + 1 + 0.25 + 12.25) / 4));
        out.print("SwiGLU's gate uses SiLU(x) = x·sigmoid(x), a smooth ReLU:");
        for (float v : new float[] {-3, -1, 0, 1, 3}) out.printf(Locale.ROOT, "  SiLU(%.0f)=%.2f", v, Attention.silu(v));
        out.println();
    }

    // ---------------------------------------------------------------------------------------------

    void rotation() {
        heading("2. RoPE: rotate pairs of dimensions by an angle that grows with the position");
        float[] q = {1f, 0f, 1f, 0f, 1f, 0f, 1f, 0f};
        out.println("A query of 8 numbers is 4 pairs; pair i turns by position x θ_i with θ_i = base^(-2i/8), fast to slow.");
        out.println("(Pairs as in the RoFormer paper, (x0,x1), (x2,x3)...; Phi-3's files pair x_i with x_{i+d/2}: same idea.)");
        for (int position = 0; position <= 3; position++) {
            float[] rotated = Attention.rope(q.clone(), position, base, RopeStyle.NORM);
            out.printf("  position %d: %s%n", position, format(rotated));
        }
        out.println("Every pair keeps its length; only its direction changes. Keys are rotated the same way.");
    }

    void frequencies() {
        heading("3. The frequency table (head size " + headSize + ", base " + fmt(base) + ")");
        out.printf("  %6s %20s %30s%n", "pair i", "θ_i (rad per token)", "a full turn every ... tokens");
        int pairs = headSize / 2;
        List<Integer> shown = new ArrayList<>();
        for (int i = 0; i < pairs; i = i == 0 ? 1 : i * 2) shown.add(i);
        if (!shown.contains(pairs - 1)) shown.add(pairs - 1);
        for (int i : shown) {
            double theta = Math.pow(base, -2.0 * i / headSize);
            out.printf(Locale.ROOT, "  %6d %20.6f %30.1f%n", i, theta, 2 * Math.PI / theta);
        }
        out.println("Fast pairs tell neighbours apart; slow pairs barely turn over thousands of tokens and carry the");
        out.println("long-range position. A larger base (Llama 3: 500000) slows them all down for longer contexts.");
    }

    void relativePositions() {
        heading("4. Why it works: after rotation, q·k depends only on the distance m - n");
        Random random = new Random(seed);
        float[] q = new float[headSize], k = new float[headSize];
        for (int i = 0; i < headSize; i++) { q[i] = (float) random.nextGaussian(); k[i] = (float) random.nextGaussian(); }
        out.printf("A random query and key (head size %d), the query at position m, the key at n:%n", headSize);
        out.printf("  %6s %6s %6s %12s%n", "m", "n", "m - n", "q_m · k_n");
        double worst = 0;
        for (int distance : new int[] {3, 10}) {
            double first = Double.NaN;
            for (int n : new int[] {0, 10, 100, 1000}) {
                int m = n + distance;
                float[] qm = Attention.rope(q.clone(), m, base, RopeStyle.NEOX), kn = Attention.rope(k.clone(), n, base, RopeStyle.NEOX);
                double score = Attention.dot(qm, 0, kn, 0, headSize);
                if (Double.isNaN(first)) first = score;
                worst = Math.max(worst, Math.abs(score - first) / Math.max(1, Math.abs(first)));
                out.printf(Locale.ROOT, "  %6d %6d %6d %12.5f%n", m, n, distance, score);
            }
        }
        out.printf("Same distance, same score (largest relative difference %.1e: float rounding); another distance,%n", worst);
        out.println("another score. Rotating both by their positions leaves the angle between them set by m - n alone:");
        out.println("R(m)q · R(n)k = q · R(n - m)k. Attention sees relative positions, with nothing added to the embeddings.");
    }

    // ---------------------------------------------------------------------------------------------

    void packing() {
        heading("5. Packing documents into one training row");
        int total = Arrays.stream(docs).sum();
        int row = total + 1;
        char[] names = new char[total];
        int[] documents = SequencePacking.documentIds(docs);
        for (int t = 0; t < total; t++) names[t] = (char) ('A' + documents[t] % 26);
        out.printf("%d documents of %s tokens. Padding gives each its own row of %d and fills the rest with _ :%n", docs.length,
                Arrays.toString(docs).replaceAll("[\\[\\]]", ""), row);
        int at = 0;
        for (int d = 0; d < docs.length; d++) {
            StringBuilder line = new StringBuilder("  ");
            for (int t = 0; t < row; t++) line.append(t < docs[d] ? cell(String.valueOf(names[at + t]), d) : "_").append(' ');
            at += docs[d];
            out.println(line.toString().stripTrailing());
        }
        out.printf("Packing puts them one after another in a single row:%n");
        StringBuilder tokens = new StringBuilder("  tokens       "), positions = new StringBuilder("  position ids ");
        int[] ids = SequencePacking.positionIds(docs);
        int width = String.valueOf(Arrays.stream(docs).max().orElse(1) - 1).length(); // two-digit ids get two columns
        for (int t = 0; t < row; t++) {
            String name = t < total ? cell(String.valueOf(names[t]), documents[t]) : "_";
            tokens.append(name).append(" ".repeat(width));
            positions.append(String.format("%-" + width + "s ", t < total ? String.valueOf(ids[t]) : "_"));
        }
        out.println(tokens.toString().stripTrailing());
        out.println(positions.toString().stripTrailing() + "   (restart at 0: RoPE sees each document from its start)");
        out.println("and a block-diagonal causal mask, so no token attends to another document (# = may attend):");
        boolean[][] mask = SequencePacking.blockDiagonalCausalMask(docs);
        for (int i = 0; i < total; i++) {
            StringBuilder line = new StringBuilder("    " + cell(String.valueOf(names[i]), documents[i]) + " ");
            for (int j = 0; j <= i; j++) line.append(mask[i][j] ? cell("#", documents[j]) : ".").append(' ');
            out.println(line.toString().stripTrailing());
        }

        // A sample of document lengths: log-normal, as web text is (many short, a few very long).
        Random random = new Random(seed);
        int[] lengths = new int[1000];
        for (int i = 0; i < lengths.length; i++) lengths[i] = (int) Math.max(1, Math.round(Math.exp(Math.log(400) + 1.0 * random.nextGaussian())));
        int[] sorted = lengths.clone();
        Arrays.sort(sorted);
        int rowsPadded = SequencePacking.pieces(lengths, rowLength).length, rowsPacked = SequencePacking.pack(lengths, rowLength).size();
        out.printf("%nOn a sample of %d documents (lengths from %d to %d tokens, median %d) and rows of %d tokens:%n",
                lengths.length, sorted[0], sorted[sorted.length - 1], sorted[sorted.length / 2], rowLength);
        out.printf(Locale.ROOT, "  padding: %5d rows, %5.1f%% of the tokens trained on are padding%n", rowsPadded, 100 * SequencePacking.paddingWaste(lengths, rowLength));
        out.printf(Locale.ROOT, "  packing: %5d rows, %5.1f%% padding (first-fit, longest documents first)%n", rowsPacked, 100 * SequencePacking.packingWaste(lengths, rowLength));
        out.println("Documents longer than a row are cut into row-sized pieces in both cases.");
    }

    String cell(String text, int document) {
        return colors.paint(text, TokenColors.PALETTE.get(document % TokenColors.PALETTE.size()));
    }

    // ---------------------------------------------------------------------------------------------

    static String format(float[] v) {
        List<String> parts = new ArrayList<>();
        for (float x : v) parts.add(String.format(Locale.ROOT, "%5.2f", x));
        return "[" + String.join(" ", parts) + "]";
    }

    static String fmt(float x) {
        return x == Math.rint(x) ? String.valueOf((long) x) : String.valueOf(x);
    }

    void heading(String title) {
        out.println();
        out.println(TokenColors.heading(title, colors.color()));
    }
}
