package support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import llm.GgmlType;

/**
 * Small Phi-3-layout GGUF files with random weights, written by the tests themselves, that llama.cpp can
 * load too: a 512-token SentencePiece ("llama") vocabulary with real tokenizer metadata (&lt;unk&gt;, &lt;s&gt;,
 * &lt;/s&gt;, the 256 byte tokens &lt;0x00&gt;..&lt;0xFF&gt;, then simple pieces), 2 blocks, 4 heads.
 *
 * <p>The distributions are peaked on purpose so that greedy ids do not flip under quantization: the
 * embeddings are large against the small block weights, and the LM head is built from embedding rows,
 * so after a "word" piece the model predicts a fixed successor word (the 200 words form a cycle) with
 * a margin of several logits; the blocks (attention and feed-forward) still move every logit by a
 * visible amount. Prompts should end with a word piece: after other tokens nothing is peaked.
 *
 * <pre>
 * Path f32 = TestModels.write(dir, TestModels.Variant.F32);
 * Path bad = TestModels.builder(TestModels.Variant.F32).without("blk.1.ffn_down.weight").write(dir.resolve("bad.gguf"));
 * </pre>
 */
public final class TestModels {

    private TestModels() {}

    public static final int VOCAB = 512;
    public static final int BOS = 1, EOS = 2;
    /** The "word" pieces (▁ + consonant + vowel, then + n) that the model walks through. */
    public static final int FIRST_WORD = 3 + 256 + 1 + 26 + 26;
    public static final int WORDS = VOCAB - FIRST_WORD;

    /** The files the tests use: one per tensor type, a K-quant mix, grouped-query and llama-style layouts. */
    public enum Variant {
        F32("phi3", GgmlType.F32, 64, 4, 4, 256),
        F16("phi3", GgmlType.F16, 64, 4, 4, 256),
        BF16("phi3", GgmlType.BF16, 64, 4, 4, 256),
        Q8_0("phi3", GgmlType.Q8_0, 64, 4, 4, 256),
        Q4_0("phi3", GgmlType.Q4_0, 64, 4, 4, 256),
        /** Like Phi-3-mini's q4 file: Q4_K, Q5_K and Q6_K matrices, F32 norms; K-quant rows need 256. */
        Q4_K_M("phi3", null, 256, 4, 4, 512),
        /** Grouped-query attention: 4 query heads share 2 KV heads. */
        GQA("phi3", GgmlType.F32, 64, 4, 2, 256),
        /** An early-conversion layout: architecture llama, split q/k/v and gate/up, NORM RoPE. */
        LLAMA("llama", GgmlType.F32, 64, 4, 4, 256);

        public final String architecture;
        /** The type of every matrix (null: the K-quant mix). Norms are always F32, as llama.cpp writes them. */
        public final GgmlType type;
        public final int embedding, heads, kvHeads, feedForward;

        Variant(String architecture, GgmlType type, int embedding, int heads, int kvHeads, int feedForward) {
            this.architecture = architecture;
            this.type = type;
            this.embedding = embedding;
            this.heads = heads;
            this.kvHeads = kvHeads;
            this.feedForward = feedForward;
        }

        public String fileName() { return "test-" + name().toLowerCase() + ".gguf"; }
    }

    public static final int BLOCKS = 2;
    public static final int CONTEXT = 128;
    public static final float ROPE_BASE = 10000f;
    public static final float RMS_EPS = 1e-5f;

    /** Writes the variant into {@code dir} (file name {@link Variant#fileName()}); returns its path. */
    public static Path write(Path dir, Variant variant) {
        return builder(variant).write(dir.resolve(variant.fileName()));
    }

    private static Path sharedDir;
    private static final Map<Variant, Path> shared = new EnumMap<>(Variant.class);

    /**
     * The variant's file in a directory shared by every test class of this run: written once (the
     * K-quant file takes seconds to quantize), deleted when the JVM exits.
     */
    public static synchronized Path shared(Variant variant) {
        return shared.computeIfAbsent(variant, v -> {
            try {
                if (sharedDir == null) {
                    sharedDir = Files.createTempDirectory("playground-test-models");
                    Path toDelete = sharedDir;
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        try (var files = Files.list(toDelete)) {
                            files.forEach(f -> f.toFile().delete());
                        } catch (IOException | RuntimeException e) {
                            // best effort: a mapped file may still be open
                        }
                        toDelete.toFile().delete();
                    }));
                }
                return write(sharedDir, v);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    public static Builder builder(Variant variant) {
        return new Builder(variant);
    }

    // ---------------------------------------------------------------------------------------------
    // The vocabulary

    private static final String CONSONANTS = "bdfgklmnprstvzhjcwxy"; // 20
    private static final String VOWELS = "aeiou";

    /** The 512 token strings: control tokens, byte tokens, then SentencePiece pieces (▁ marks a space). */
    public static String[] tokens() {
        List<String> t = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) t.add(String.format("<0x%02X>", b));
        t.add("▁");
        for (char c = 'a'; c <= 'z'; c++) t.add(String.valueOf(c));
        for (char c = 'a'; c <= 'z'; c++) t.add("▁" + c);
        // words: ▁ + consonant + vowel (100), then the same + n (100); their prefixes are all in the
        // vocabulary, so SentencePiece's merges reach them
        for (char c : CONSONANTS.toCharArray()) for (char v : VOWELS.toCharArray()) t.add("▁" + c + v);
        for (char c : CONSONANTS.toCharArray()) for (char v : VOWELS.toCharArray()) t.add("▁" + c + v + "n");
        if (t.size() != VOCAB || t.get(FIRST_WORD).length() != 3) throw new AssertionError("vocabulary layout");
        return t.toArray(String[]::new);
    }

    /** A word piece's text as a decoder shows it (▁ becomes a space). */
    public static String text(int id) {
        return tokens()[id].replace('▁', ' ');
    }

    /** SentencePiece scores: longer pieces merge first. */
    private static float[] scores(String[] tokens) {
        float[] s = new float[tokens.length];
        for (int i = 0; i < tokens.length; i++) s[i] = i < 259 ? 0f : -10f + tokens[i].length() - i * 1e-3f;
        return s;
    }

    /** llama.cpp token types: 1 normal, 2 unknown, 3 control, 6 byte. */
    private static int[] tokenTypes() {
        int[] types = new int[VOCAB];
        Arrays.fill(types, 1);
        types[0] = 2;
        types[1] = types[2] = 3;
        for (int b = 0; b < 256; b++) types[3 + b] = 6;
        return types;
    }

    /** The word the model is built to predict after the word {@code word}: the words form one cycle. */
    public static int successor(int word) {
        if (word < FIRST_WORD || word >= VOCAB) throw new IllegalArgumentException(word + " is not a word piece");
        return FIRST_WORD + (word - FIRST_WORD + 37) % WORDS;
    }

    /** Word piece number {@code i} (modulo the number of words): handy for prompts. */
    public static int word(int i) {
        return FIRST_WORD + Math.floorMod(i, WORDS);
    }

    // ---------------------------------------------------------------------------------------------

    /** Writes one model file, optionally broken in one way for error tests. */
    public static final class Builder {
        private final Variant v;
        private String architecture;
        private final Set<String> without = new HashSet<>();
        private final Map<String, long[]> reshaped = new HashMap<>();
        private long seed = 1234;
        private int context = CONTEXT;
        private boolean tiedOutput;
        private int vocab = VOCAB;

        private Builder(Variant v) {
            this.v = v;
            this.architecture = v.architecture;
        }

        /** Writes this {@code general.architecture} (the metadata keys keep the variant's prefix). */
        public Builder architecture(String architecture) { this.architecture = architecture; return this; }
        /** Leaves this tensor out. */
        public Builder without(String tensor) { without.add(tensor); return this; }
        /** Writes this tensor (random values) with another shape. */
        public Builder reshape(String tensor, long... shape) { reshaped.put(tensor, shape); return this; }
        public Builder seed(long seed) { this.seed = seed; return this; }
        public Builder context(int context) { this.context = context; return this; }
        /** No {@code output.weight}: the LM head is the token embedding (its rows are then the successors' embeddings). */
        public Builder tiedOutput() { this.tiedOutput = true; return this; }
        /**
         * A larger vocabulary ({@code vocab >= 512}), e.g. 32064 so that the real Phi-3 tokenizer's ids fit: the
         * extra ids are plain pieces with random embedding rows and small LM-head rows. The first 512 rows and
         * every other weight are those of the 512-token file, so ids below 512 behave the same.
         */
        public Builder vocab(int vocab) {
            if (vocab < VOCAB) throw new IllegalArgumentException("the vocabulary needs at least " + VOCAB + " tokens, got " + vocab);
            this.vocab = vocab;
            return this;
        }

        public Path write(Path file) {
            Random random = new Random(seed);
            String p = v.architecture;
            int dim = v.embedding, ff = v.feedForward, headSize = dim / v.heads, kvDim = v.kvHeads * headSize;
            String[] tokens = Arrays.copyOf(tokens(), vocab);
            for (int i = VOCAB; i < vocab; i++) tokens[i] = "<extra_" + i + ">";
            int[] tokenTypes = Arrays.copyOf(tokenTypes(), vocab);
            Arrays.fill(tokenTypes, VOCAB, vocab, 1);
            Random extra = new Random(seed + 1); // the extra rows, drawn apart so the rest stays as in the 512-token file
            GgufWriter w = new GgufWriter()
                    .put("general.architecture", architecture)
                    .put("general.name", "playground test " + v.name())
                    .put(p + ".context_length", context)
                    .put(p + ".embedding_length", dim)
                    .put(p + ".block_count", BLOCKS)
                    .put(p + ".feed_forward_length", ff)
                    .put(p + ".attention.head_count", v.heads)
                    .put(p + ".attention.head_count_kv", v.kvHeads)
                    .put(p + ".attention.layer_norm_rms_epsilon", RMS_EPS)
                    .put(p + ".rope.freq_base", ROPE_BASE)
                    .put(p + ".rope.dimension_count", headSize)
                    // llama.cpp b4916 (de.kherud:llama 4.2.0) refuses phi3 files without a sliding window;
                    // Phi-3-mini's is 2047, far beyond these files' context, so it never applies here
                    .put(p + ".attention.sliding_window", 2047)
                    .put("tokenizer.ggml.model", "llama")
                    .putArray("tokenizer.ggml.tokens", tokens)
                    .putArray("tokenizer.ggml.scores", scores(tokens))
                    .putArray("tokenizer.ggml.token_type", tokenTypes)
                    .put("tokenizer.ggml.bos_token_id", BOS)
                    .put("tokenizer.ggml.eos_token_id", EOS)
                    .put("tokenizer.ggml.unknown_token_id", 0)
                    .put("tokenizer.ggml.add_bos_token", true)
                    .put("tokenizer.ggml.add_eos_token", false);

            // Embeddings: rms about 1 per element, large next to what the blocks add.
            float[] embedding = grow(gaussian(random, VOCAB * dim, 1f), extra, vocab * dim, 1f);
            Map<String, Object[]> tensors = new LinkedHashMap<>(); // name -> {type, shape, values}
            tensors.put("token_embd.weight", new Object[] {matrixType("token_embd"), new long[] {dim, vocab}, embedding});

            // Block weights (std scaled by 1/sqrt(input width)): q and k give attention scores of std ~2
            // (weights far from uniform), gate and up give SiLU inputs of std ~1.5 (the curve matters), and
            // v, o and down keep what each sub-layer adds to the residual near 0.15 rms, against the
            // embeddings' 1. Norms near 1.
            float qk = 1.4f / (float) Math.sqrt(dim), vo = 0.5f / (float) Math.sqrt(dim);
            float gateUp = 1.5f / (float) Math.sqrt(dim), down = 0.13f / (float) Math.sqrt(ff);
            for (int l = 0; l < BLOCKS; l++) {
                String b = "blk." + l + ".";
                tensors.put(b + "attn_norm.weight", new Object[] {GgmlType.F32, new long[] {dim}, norm(random, dim)});
                if (v.architecture.equals("llama")) {
                    tensors.put(b + "attn_q.weight", new Object[] {matrixType("attn_q"), new long[] {dim, dim}, gaussian(random, dim * dim, qk)});
                    tensors.put(b + "attn_k.weight", new Object[] {matrixType("attn_k"), new long[] {dim, kvDim}, gaussian(random, dim * kvDim, qk)});
                    tensors.put(b + "attn_v.weight", new Object[] {matrixType("attn_v"), new long[] {dim, kvDim}, gaussian(random, dim * kvDim, vo)});
                } else {
                    // q and k larger than v, so the attention weights are far from uniform
                    float[] qkv = new float[(dim + 2 * kvDim) * dim];
                    for (int i = 0; i < qkv.length; i++) qkv[i] = (float) random.nextGaussian() * (i < (dim + kvDim) * dim ? qk : vo);
                    tensors.put(b + "attn_qkv.weight", new Object[] {matrixType("attn_qkv" + l), new long[] {dim, dim + 2 * kvDim}, qkv});
                }
                tensors.put(b + "attn_output.weight", new Object[] {matrixType("attn_output"), new long[] {dim, dim}, gaussian(random, dim * dim, vo)});
                tensors.put(b + "ffn_norm.weight", new Object[] {GgmlType.F32, new long[] {dim}, norm(random, dim)});
                if (v.architecture.equals("llama")) {
                    tensors.put(b + "ffn_gate.weight", new Object[] {matrixType("ffn_gate"), new long[] {dim, ff}, gaussian(random, dim * ff, gateUp)});
                    tensors.put(b + "ffn_up.weight", new Object[] {matrixType("ffn_up"), new long[] {dim, ff}, gaussian(random, dim * ff, gateUp)});
                } else { // gate rows first, then up
                    tensors.put(b + "ffn_up.weight", new Object[] {matrixType("ffn_up"), new long[] {dim, 2 * ff}, gaussian(random, dim * 2 * ff, gateUp)});
                }
                tensors.put(b + "ffn_down.weight", new Object[] {matrixType("ffn_down" + l), new long[] {ff, dim}, gaussian(random, ff * dim, down)});
            }
            tensors.put("output_norm.weight", new Object[] {GgmlType.F32, new long[] {dim}, norm(random, dim)});
            if (!tiedOutput) {
                // LM head: the row of word j is alpha times the embedding of the word before it in the
                // cycle (plus noise), so after a word its successor's logit is about 11, while every other
                // logit stays within a few units of 0.
                float alpha = 12f / dim;
                float[] head = grow(gaussian(random, VOCAB * dim, 0.02f), extra, vocab * dim, 0.02f);
                for (int t = FIRST_WORD; t < VOCAB; t++) {
                    int j = successor(t);
                    for (int i = 0; i < dim; i++) head[j * dim + i] += alpha * embedding[t * dim + i];
                }
                tensors.put("output.weight", new Object[] {matrixType("output"), new long[] {dim, vocab}, head});
            }

            for (var e : tensors.entrySet()) {
                String name = e.getKey();
                if (without.contains(name)) continue;
                GgmlType type = (GgmlType) e.getValue()[0];
                long[] shape = (long[]) e.getValue()[1];
                float[] values = (float[]) e.getValue()[2];
                if (reshaped.containsKey(name)) {
                    shape = reshaped.get(name);
                    long n = 1;
                    for (long d : shape) n *= d;
                    values = gaussian(random, (int) n, 0.05f);
                }
                w.tensor(name, type, shape, values);
            }
            return w.write(file);
        }

        /** The matrix type: the variant's, or for the mix what llama.cpp's Q4_K_M picks (roughly). */
        private GgmlType matrixType(String role) {
            if (v.type != null) return v.type;
            return switch (role) {
                case "output", "ffn_down0" -> GgmlType.Q6_K;
                case "attn_qkv0", "attn_qkv1", "attn_v" -> GgmlType.Q5_K;
                default -> GgmlType.Q4_K;
            };
        }
    }

    private static float[] gaussian(Random random, int n, float std) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian() * std;
        return x;
    }

    /** {@code values} extended to {@code n} with Gaussian numbers from {@code random}. */
    private static float[] grow(float[] values, Random random, int n, float std) {
        float[] grown = Arrays.copyOf(values, n);
        for (int i = values.length; i < n; i++) grown[i] = (float) random.nextGaussian() * std;
        return grown;
    }

    private static float[] norm(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = 1f + 0.1f * (float) random.nextGaussian();
        return x;
    }
}
