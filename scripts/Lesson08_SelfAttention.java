///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION Lesson 8: self-attention with small printed numbers; multi-head, multi-query and grouped-query attention; sparse and blockwise attention.
//DEPS info.picocli:picocli:4.7.7
//SOURCES ../lib/llm/Cli.java
//SOURCES ../lib/llm/TokenColors.java
//SOURCES ../lib/llm/Attention.java
//SOURCES ../lib/llm/ModelSizes.java
//SOURCES ../lib/llm/SparseAttention.java

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import llm.Attention;
import llm.Cli;
import llm.ModelSizes;
import llm.ModelSizes.Architecture;
import llm.SparseAttention;
import llm.TokenColors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Lesson 8, "Self-attention": the attention of one head computed with numbers small enough to read;
 * the same input through multi-head, grouped-query and multi-query attention; what each costs in
 * real models; sparse patterns; and attention computed block by block with an online softmax.
 */
@Command(name = "self-attention", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Self-attention step by step with small numbers, then its variants: multi-head, grouped-query,",
                "multi-query, sparse and blockwise attention. TEXT gives the words (each gets a made-up vector)."})
public class Lesson08_SelfAttention implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "TEXT", defaultValue = "The dog chased the squirrel",
            description = "Up to 8 words to attend over (default: \"${DEFAULT-VALUE}\").")
    String text;

    @Option(names = "--dim", paramLabel = "D", defaultValue = "4", description = "Size of the word vectors in the first part (2 to 8, default ${DEFAULT-VALUE}).")
    int dim;

    @Option(names = "--length", paramLabel = "N", defaultValue = "16", description = "Sequence length of the sparse masks drawn (4 to 64, default ${DEFAULT-VALUE}).")
    int length;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "8", description = "Seed of the made-up vectors and weights (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--color", paramLabel = "auto|always|never", defaultValue = "auto",
            description = "Colour: auto (default: only on a terminal without NO_COLOR), always, never.")
    TokenColors.Choice color;

    static final int MAX_WORDS = 8;

    final PrintStream out = System.out;
    boolean useColor;

    public static void main(String[] args) {
        System.exit(Cli.run(new Lesson08_SelfAttention(), args));
    }

    @Override
    public Integer call() {
        if (text.isBlank()) throw new IllegalArgumentException("the text is empty: give a few words");
        List<String> words = List.of(text.trim().split("\\s+"));
        if (words.size() > MAX_WORDS) throw new IllegalArgumentException("give at most " + MAX_WORDS + " words (got " + words.size() + "), so the matrices stay readable");
        if (dim < 2 || dim > 8) throw new IllegalArgumentException("--dim must be between 2 and 8, got " + dim);
        if (length < 4 || length > 64) throw new IllegalArgumentException("--length must be between 4 and 64, got " + length);
        useColor = TokenColors.useColor(color);
        TokenColors.installConsole(useColor);

        oneHead(words);
        headVariants(words);
        realSizes();
        sparse();
        blockwise();
        llama3();
        return 0;
    }

    // ---------------------------------------------------------------------------------------------

    void oneHead(List<String> words) {
        heading("1. One attention head, with numbers you can check by hand");
        int n = words.size();
        float[][] x = embed(words, dim);
        Random random = new Random(seed);
        float[][] wq = weights(random, dim, dim), wk = weights(random, dim, dim), wv = weights(random, dim, dim), wo = weights(random, dim, dim);
        out.printf("Each word gets a made-up vector of %d numbers (a trained model learns them): X is [%d, %d].%n", dim, n, dim);
        printMatrix("X", x, words);
        out.println("Three weight matrices (learned in training; random here) project each vector into a query, a key and a value:");
        printMatrix("W_q", wq, null);
        printMatrix("W_k", wk, null);
        printMatrix("W_v", wv, null);
        float[][] q = matmul(x, wq), k = matmul(x, wk), v = matmul(x, wv);
        printMatrix("Q = X·W_q  (what each word is looking for)", q, words);
        printMatrix("K = X·W_k  (what each word offers to be found by)", k, words);
        printMatrix("V = X·W_v  (what each word passes on)", v, words);

        // Scores: one dot product per (query, key) pair, from the same kernel the model uses.
        float[][] scores = new float[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) scores[i][j] = Attention.dot(q[i], 0, k[j], 0, dim);
        printMatrix("Scores Q·Kᵀ  (row: the word asking, column: the word looked at)", scores, words, words);
        float scale = (float) (1 / Math.sqrt(dim));
        float[][] scaled = new float[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) scaled[i][j] = scores[i][j] * scale;
        out.printf("Divided by √d = √%d = %.3f, so that larger vectors do not make the softmax too sharp:%n", dim, Math.sqrt(dim));
        printMatrix("Scores / √d", scaled, words, words);
        float[][] mask = Attention.causalMask(n);
        float[][] weights = new float[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) weights[i][j] = scaled[i][j] + mask[i][j];
            Attention.softmax(weights[i]);
        }
        out.println("A decoder may not look ahead: the causal mask sets the scores of later words to -∞, then a softmax");
        out.println("turns each row into weights that are >= 0 and add up to 1:");
        printMatrix("Attention weights = softmax(scores / √d + mask)", weights, words, words);
        float[][] z = new float[n][dim];
        float[] flatV = flatten(v);
        for (int i = 0; i < n; i++) Attention.weightedSum(weights[i], 0, flatV, 0, dim, n, dim, z[i], 0);
        printMatrix("Z = weights · V  (each word: a weighted mix of the values it attends to)", z, words);
        printMatrix("W_o", wo, null);
        printMatrix("Output = Z · W_o  (the output projection; added to the residual stream)", matmul(z, wo), words);

        float[][] library = Attention.scaledDotProductAttention(q, k, v, mask, null);
        out.printf("Check: Attention.scaledDotProductAttention (what Phi-3 runs) gives the same Z, max difference %.1e%n", maxDifference(library, z));
    }

    // ---------------------------------------------------------------------------------------------

    void headVariants(List<String> words) {
        heading("2. Multi-head, grouped-query and multi-query attention on the same input");
        int n = words.size(), heads = 4, headSize = 2, d = heads * headSize;
        float[][] x = embed(words, d);
        Random random = new Random(seed + 1);
        float[][] wq = weights(random, d, d), wk = weights(random, d, d), wv = weights(random, d, d);
        float[][] q = matmul(x, wq), kAll = matmul(x, wk), vAll = matmul(x, wv);
        out.printf("%d words, vectors of %d, %d query heads of size %d. The heads differ only in how many key/value heads they share:%n",
                n, d, heads, headSize);
        out.printf("  %-30s %8s %22s   %s%n", "", "KV heads", "K and V kept per word", "output of \"" + words.getLast() + "\"");
        float[][] mha = null, mqa = null;
        for (int kvHeads : new int[] {heads, 2, 1}) {
            // The first kvHeads heads' worth of K and V columns: each kept K/V head serves heads/kvHeads query heads.
            float[][] k = columns(kAll, kvHeads * headSize), v = columns(vAll, kvHeads * headSize);
            float[][] result = Attention.multiHeadAttention(q, k, v, heads, kvHeads, true, null);
            String name = kvHeads == heads ? "multi-head (MHA)" : kvHeads == 1 ? "multi-query (MQA)" : "grouped-query (GQA), 2 groups";
            out.printf("  %-30s %8d %22s   %s%n", name, kvHeads, 2 * kvHeads * headSize + " numbers", format(result[n - 1]));
            if (kvHeads == heads) mha = result;
            if (kvHeads == 1) mqa = result;
        }
        // The equivalences, against attention computed head by head with single-head attention.
        float[][] perHeadMha = perHead(q, kAll, vAll, heads, heads, headSize);
        float[][] perHeadMqa = perHead(q, columns(kAll, headSize), columns(vAll, headSize), heads, 1, headSize);
        out.printf("GQA with as many groups as heads is MHA (each head its own K, V):  max difference %.1e%n", maxDifference(mha, perHeadMha));
        out.printf("GQA with one group is MQA (all heads share one K, V):              max difference %.1e%n", maxDifference(mqa, perHeadMqa));
        out.println("Fewer KV heads means a smaller KV cache and less memory traffic per token; quality drops a little,");
        out.println("and GQA sits in between: Llama 3 and Mixtral use 8 KV heads for 32 query heads.");
    }

    /** Each query head on its own, with single-head attention over the KV head its group uses. */
    static float[][] perHead(float[][] q, float[][] k, float[][] v, int heads, int kvHeads, int headSize) {
        int n = q.length;
        float[][] out = new float[n][heads * headSize];
        for (int h = 0; h < heads; h++) {
            int g = h / (heads / kvHeads);
            float[][] qh = new float[n][], kh = new float[n][], vh = new float[n][];
            for (int i = 0; i < n; i++) {
                qh[i] = Arrays.copyOfRange(q[i], h * headSize, (h + 1) * headSize);
                kh[i] = Arrays.copyOfRange(k[i], g * headSize, (g + 1) * headSize);
                vh[i] = Arrays.copyOfRange(v[i], g * headSize, (g + 1) * headSize);
            }
            float[][] oh = Attention.scaledDotProductAttention(qh, kh, vh, Attention.causalMask(n), null);
            for (int i = 0; i < n; i++) System.arraycopy(oh[i], 0, out[i], h * headSize, headSize);
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------

    void realSizes() {
        heading("3. What the head layout costs in real models (per block; KV cache in fp16)");
        out.printf("  %-13s %6s %9s %10s %16s %16s %14s%n", "model", "heads", "KV heads", "head size", "attention params", "KV cache/token", "at 4k tokens");
        for (Architecture a : List.of(ModelSizes.PHI3_MINI, ModelSizes.LLAMA3_8B, ModelSizes.MIXTRAL_8X7B)) {
            out.printf("  %-13s %6d %9d %10d %16s %16s %14s%n", a.name(), a.heads(), a.kvHeads(), a.headSize(),
                    ModelSizes.count(a.attentionParameters()), ModelSizes.bytes(a.kvCacheBytes(1, 2)), ModelSizes.bytes(a.kvCacheBytes(4096, 2)));
        }
        out.println("  attention params = 2 x d x d (W_q, W_o) + 2 x d x KV heads x head size (W_k, W_v)");
        out.println("  KV cache = 2 (K and V) x layers x KV heads x head size x tokens x 2 bytes");
        out.println("Phi-3-mini keeps all 32 KV heads: its cache per token is 3x Llama-3-8B's, a model twice its size.");
    }

    // ---------------------------------------------------------------------------------------------

    void sparse() {
        heading("4. Sparse attention: compute only some of the scores");
        int n = length, window = 4, stride = 4, block = 4;
        out.printf("Each grid is %d queries (rows) x %d keys (columns); %s = score computed, %s = skipped, blank = the future.%n",
                n, n, mark(true), mark(false));
        record Pattern(String name, boolean[][] mask) {}
        List<Pattern> patterns = List.of(
                new Pattern("full causal", SparseAttention.causal(n)),
                new Pattern("local, window " + window, SparseAttention.local(n, window)),
                new Pattern("strided, stride " + stride, SparseAttention.strided(n, stride)),
                new Pattern("fixed, block " + block + ", 1 summary", SparseAttention.fixed(n, block, 1)));
        for (Pattern p : patterns) {
            out.printf("%n  %s: %d of %d scores (%.0f%%)%n", p.name(), SparseAttention.computed(p.mask()), (long) n * (n + 1) / 2,
                    100 * SparseAttention.shareOfCausal(p.mask()));
            for (int i = 0; i < n; i++) {
                StringBuilder row = new StringBuilder("    ");
                for (int j = 0; j < n; j++) row.append(j > i ? "  " : mark(p.mask()[i][j]) + " ");
                out.println(row.toString().stripTrailing());
            }
        }
        int longN = 4096, sqrt = 64;
        out.printf("%nAt %d tokens the savings grow: local (window %d) computes %.1f%%, strided and fixed (l = √n = %d) %.1f%% and %.1f%%.%n",
                longN, 256, 100 * SparseAttention.shareOfCausal(SparseAttention.local(longN, 256)), sqrt,
                100 * SparseAttention.shareOfCausal(SparseAttention.strided(longN, sqrt)),
                100 * SparseAttention.shareOfCausal(SparseAttention.fixed(longN, sqrt, 8)));
        out.println("Information still travels far: over several layers, one local or strided hop after another.");
    }

    String mark(boolean computed) {
        if (!useColor) return computed ? "#" : ".";
        return computed ? "\u001b[38;2;252;141;98m■\u001b[0m" : "\u001b[38;2;150;150;150m·\u001b[0m";
    }

    // ---------------------------------------------------------------------------------------------

    void blockwise() {
        heading("5. Blockwise attention with an online softmax (the idea behind Flash and Ring attention)");
        int n = 256, d = 32;
        Random random = new Random(seed + 2);
        float[][] q = gaussian(random, n, d, 2f), k = gaussian(random, n, d, 1f), v = gaussian(random, n, d, 1f);
        float[][] full = Attention.scaledDotProductAttention(q, k, v, Attention.causalMask(n), null);
        out.printf("%d tokens, head size %d, causal. Full attention holds a whole row of %d scores per query.%n", n, d, n);
        out.println("Blockwise keeps a running maximum and a running sum, and rescales what it summed whenever a new");
        out.println("block raises the maximum; so it holds one block of scores at a time, and never the n x n matrix.");
        out.printf("  %10s %22s %28s%n", "block size", "scores held per query", "max difference from full");
        for (int block : new int[] {1, 16, 64, n}) {
            float[][] blockwise = Attention.blockwiseAttention(q, k, v, true, block);
            out.printf("  %10d %22d %28.1e%n", block, block, maxDifference(full, blockwise));
        }
        out.println("Same result up to float rounding: the blocks can live on one GPU's fast memory (Flash) or on");
        out.println("several GPUs passing keys and values around a ring (Ring attention).");
    }

    // ---------------------------------------------------------------------------------------------

    void llama3() {
        heading("6. Llama-3-8B's hyper-parameters");
        Architecture a = ModelSizes.LLAMA3_8B;
        out.printf("""
                  layers (blocks)             %d
                  model dimension d           %d
                  attention heads             %d query heads of size %d, %d KV heads (groups of %d)
                  feed-forward size           %d
                  vocabulary                  %d
                  context                     8192 tokens, RoPE base 500000
                  parameters                  %s (published: 8B)
                """, a.layers(), a.embedding(), a.heads(), a.headSize(), a.kvHeads(), a.groupSize(), a.feedForward(), a.vocabSize(),
                ModelSizes.count(a.parameters()));
        int fourD = 4 * a.embedding(), twoThirds = (int) (2.0 * fourD / 3), scaled = (int) (1.3 * twoThirds);
        out.printf("Where 14336 comes from (Meta's code): the 2017 transformer used 4 x d = %d; SwiGLU has three matrices%n", fourD);
        out.printf("instead of two, so take 2/3 of it for the same size: %d; Llama 3 scales that by 1.3: %d, then rounds up%n", twoThirds, scaled);
        out.printf("to a multiple of 1024: %d.%n", ModelSizes.llamaFeedForward(a.embedding(), 1.3, 1024));
    }

    // ---------------------------------------------------------------------------------------------
    // Small matrices

    /** A made-up vector per word, the same for the same word (rounded to one decimal, easy to read). */
    float[][] embed(List<String> words, int d) {
        float[][] x = new float[words.size()][];
        for (int i = 0; i < x.length; i++) x[i] = weights(new Random(seed * 31 + words.get(i).toLowerCase(Locale.ROOT).hashCode()), 1, d)[0];
        return x;
    }

    /** Random weights in [-1, 1], rounded to one decimal. */
    static float[][] weights(Random random, int rows, int cols) {
        float[][] w = new float[rows][cols];
        for (float[] row : w) for (int j = 0; j < cols; j++) row[j] = Math.round(random.nextFloat() * 20 - 10) / 10f;
        return w;
    }

    static float[][] gaussian(Random random, int rows, int cols, float std) {
        float[][] m = new float[rows][cols];
        for (float[] row : m) for (int j = 0; j < cols; j++) row[j] = (float) random.nextGaussian() * std;
        return m;
    }

    static float[][] matmul(float[][] a, float[][] b) {
        float[][] c = new float[a.length][b[0].length];
        for (int i = 0; i < a.length; i++)
            for (int j = 0; j < b[0].length; j++)
                for (int k = 0; k < b.length; k++) c[i][j] += a[i][k] * b[k][j];
        return c;
    }

    static float[][] columns(float[][] m, int count) {
        float[][] out = new float[m.length][];
        for (int i = 0; i < m.length; i++) out[i] = Arrays.copyOf(m[i], count);
        return out;
    }

    static float[] flatten(float[][] m) {
        float[] flat = new float[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) System.arraycopy(m[i], 0, flat, i * m[0].length, m[0].length);
        return flat;
    }

    static double maxDifference(float[][] a, float[][] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[i].length; j++) max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
        return max;
    }

    static String format(float[] v) {
        List<String> parts = new ArrayList<>();
        for (float x : v) parts.add(String.format(Locale.ROOT, "%5.2f", x));
        return "[" + String.join(" ", parts) + "]";
    }

    void printMatrix(String title, float[][] m, List<String> rowNames) {
        printMatrix(title, m, rowNames, null);
    }

    void printMatrix(String title, float[][] m, List<String> rowNames, List<String> columnNames) {
        out.println("  " + title);
        int labelWidth = rowNames == null ? 0 : rowNames.stream().mapToInt(String::length).max().orElse(0) + 1;
        if (columnNames != null) {
            StringBuilder header = new StringBuilder("    " + " ".repeat(labelWidth));
            for (String c : columnNames) header.append(String.format(" %7s", c.length() > 7 ? c.substring(0, 6) + "…" : c));
            out.println(header);
        }
        for (int i = 0; i < m.length; i++) {
            StringBuilder row = new StringBuilder("    ");
            if (rowNames != null) row.append(String.format("%-" + labelWidth + "s", rowNames.get(i)));
            for (float x : m[i]) {
                row.append(x == Float.NEGATIVE_INFINITY ? String.format(" %7s", "-∞") : String.format(Locale.ROOT, " %7.2f", x));
            }
            out.println(row);
        }
    }

    void heading(String title) {
        out.println();
        out.println(TokenColors.heading(title, useColor));
    }
}
