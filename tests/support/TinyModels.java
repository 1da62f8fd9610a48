package support;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import llm.GgmlType;

/**
 * Tiny Phi-3-layout GGUF files (17 to 123 KB) for tests that need thousands of model files, such as the
 * fuzzer: the same metadata keys and tensor names as {@link TestModels} and real Phi-3 files, but a
 * 16- or 32-token vocabulary and one or two small blocks, so that parsing, loading and one forward step
 * take well under a millisecond. The variants differ in every way a file's structure can: tensor types
 * (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K), GGUF version 2 or 3, with or without
 * {@code general.alignment} (32, 64), fused or split q/k/v and gate/up, tied or separate LM head.
 * The weights are random; only the structure matters here.
 */
public final class TinyModels {

    private TinyModels() {}

    public enum Variant {
        /** Every matrix F32; no general.alignment (the default 32 applies). */
        F32("phi3", 3, 0, 32, 2, 2, 32, 32, 2),
        /** Q8_0, grouped-query attention (4 heads, 2 KV heads), general.alignment 32. */
        Q8_0("phi3", 3, 32, 32, 4, 2, 64, 32, 2),
        /** Q4_0, GGUF version 2, general.alignment 64, one block, the LM head tied to the embedding. */
        Q4_0("phi3", 2, 64, 64, 2, 2, 32, 32, 1),
        /** K-quants as llama.cpp's Q4_K_M mixes them (Q4_K, Q5_K, Q6_K; Q8_0 where rows are too short); one KV head. */
        K_MIX("phi3", 3, 0, 256, 4, 1, 32, 16, 1),
        /** Architecture llama: split q/k/v and gate/up, F16 matrices, BF16 embedding, an F16 norm. */
        LLAMA("llama", 3, 32, 32, 2, 1, 32, 32, 2);

        public final String architecture;
        public final int version, alignment, embedding, heads, kvHeads, feedForward, vocab, blocks;

        Variant(String architecture, int version, int alignment, int embedding, int heads, int kvHeads, int feedForward,
                int vocab, int blocks) {
            this.architecture = architecture;
            this.version = version;
            this.alignment = alignment;
            this.embedding = embedding;
            this.heads = heads;
            this.kvHeads = kvHeads;
            this.feedForward = feedForward;
            this.vocab = vocab;
            this.blocks = blocks;
        }
    }

    /** A written file: its bytes and where its sections start. */
    public record Model(Variant variant, byte[] bytes, GgufWriter.Layout layout) {}

    public static Model build(Variant v) {
        GgufWriter w = writer(v);
        byte[] bytes = w.toBytes();
        return new Model(v, bytes, w.layout());
    }

    private static GgufWriter writer(Variant v) {
        Random random = new Random(v.ordinal() + 1);
        String p = v.architecture;
        int dim = v.embedding, ff = v.feedForward, headSize = dim / v.heads, kvDim = v.kvHeads * headSize;
        GgufWriter w = new GgufWriter().version(v.version);
        if (v.alignment > 0) w.alignment(v.alignment);
        w.put("general.architecture", p)
                .put("general.name", "tiny " + v.name().toLowerCase())
                .put("general.file_type", 7)
                .put(p + ".context_length", 64)
                .put(p + ".embedding_length", dim)
                .put(p + ".block_count", v.blocks)
                .put(p + ".feed_forward_length", ff)
                .put(p + ".attention.head_count", v.heads)
                .put(p + ".attention.head_count_kv", v.kvHeads)
                .put(p + ".attention.layer_norm_rms_epsilon", 1e-5f)
                .put(p + ".rope.freq_base", 10000f)
                .put(p + ".rope.dimension_count", headSize)
                .put("tokenizer.ggml.model", "llama")
                .putArray("tokenizer.ggml.tokens", tokens(v.vocab))
                .putArray("tokenizer.ggml.scores", scores(v.vocab))
                .putArray("tokenizer.ggml.token_type", tokenTypes(v.vocab))
                .put("tokenizer.ggml.bos_token_id", 1)
                .put("tokenizer.ggml.eos_token_id", 2)
                .put("tokenizer.ggml.add_bos_token", true)
                .put("tokenizer.chat_template", "{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}<|end|>\n{% endfor %}")
                .put("general.quantization_version", 2);

        tensor(w, random, "token_embd.weight", type(v, "token_embd"), dim, v.vocab);
        for (int l = 0; l < v.blocks; l++) {
            String b = "blk." + l + ".";
            tensor(w, random, b + "attn_norm.weight", GgmlType.F32, dim, 1);
            if (p.equals("llama")) {
                tensor(w, random, b + "attn_q.weight", type(v, "matrix"), dim, dim);
                tensor(w, random, b + "attn_k.weight", type(v, "matrix"), dim, kvDim);
                tensor(w, random, b + "attn_v.weight", type(v, "matrix"), dim, kvDim);
            } else {
                tensor(w, random, b + "attn_qkv.weight", type(v, "matrix"), dim, dim + 2 * kvDim);
            }
            tensor(w, random, b + "attn_output.weight", type(v, "matrix"), dim, dim);
            tensor(w, random, b + "ffn_norm.weight", p.equals("llama") ? GgmlType.F16 : GgmlType.F32, dim, 1);
            if (p.equals("llama")) {
                tensor(w, random, b + "ffn_gate.weight", type(v, "matrix"), dim, ff);
                tensor(w, random, b + "ffn_up.weight", type(v, "matrix"), dim, ff);
            } else {
                tensor(w, random, b + "ffn_up.weight", type(v, "ffn_up"), dim, 2 * ff);
            }
            tensor(w, random, b + "ffn_down.weight", type(v, "ffn_down"), ff, dim);
        }
        tensor(w, random, "output_norm.weight", GgmlType.F32, dim, 1);
        if (v != Variant.Q4_0) tensor(w, random, "output.weight", type(v, "output"), dim, v.vocab);
        return w;
    }

    private static GgmlType type(Variant v, String role) {
        return switch (v) {
            case F32 -> GgmlType.F32;
            case Q8_0 -> GgmlType.Q8_0;
            case Q4_0 -> GgmlType.Q4_0;
            case LLAMA -> role.equals("token_embd") ? GgmlType.BF16 : GgmlType.F16;
            case K_MIX -> switch (role) {
                case "output" -> GgmlType.Q6_K;
                case "ffn_up" -> GgmlType.Q5_K;
                case "ffn_down" -> GgmlType.Q8_0; // rows of 32: too short for a 256-value super-block
                default -> GgmlType.Q4_K;
            };
        };
    }

    private static void tensor(GgufWriter w, Random random, String name, GgmlType type, int rowLength, int rows) {
        float[] values = new float[rowLength * rows];
        float std = rows == 1 ? 0.1f : 1f / (float) Math.sqrt(rowLength);
        for (int i = 0; i < values.length; i++) values[i] = (rows == 1 ? 1f : 0f) + std * (float) random.nextGaussian();
        w.tensor(name, type, rows == 1 ? new long[] {rowLength} : new long[] {rowLength, rows}, values);
    }

    /** Control tokens, then pieces with multi-byte UTF-8 (so string mutations can split a character). */
    private static String[] tokens(int vocab) {
        List<String> t = new ArrayList<>(List.of("<unk>", "<s>", "</s>", "▁", "▁é", "日本", "🙂"));
        for (int i = 0; t.size() < vocab; i++) t.add("▁" + (char) ('a' + i % 26) + (i >= 26 ? "n" : ""));
        return t.toArray(String[]::new);
    }

    private static float[] scores(int vocab) {
        float[] s = new float[vocab];
        for (int i = 0; i < vocab; i++) s[i] = -i;
        return s;
    }

    private static int[] tokenTypes(int vocab) {
        int[] types = new int[vocab];
        for (int i = 0; i < vocab; i++) types[i] = i == 0 ? 2 : i < 3 ? 3 : 1;
        return types;
    }
}
