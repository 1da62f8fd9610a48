package llm;

import java.util.Locale;

/**
 * How big a transformer is, from its hyper-parameters alone: the parameters of each part, the
 * parameters one token actually goes through (with a Mixture of Experts only a few experts run), and
 * the size of the KV cache.
 *
 * <p>The formulas are for the Llama family of decoder-only models, which Phi-3, Llama 3 and Mixtral
 * all follow: no biases, RMSNorm (one weight vector per norm), attention with {@code heads} query heads
 * and {@code kvHeads} key/value heads, and a SwiGLU feed-forward network of three matrices (gate, up,
 * down). A Mixture of Experts replaces that network by {@code experts} copies and a router.
 */
public final class ModelSizes {

    private ModelSizes() {}

    /**
     * The hyper-parameters that decide the size, with the names of Hugging Face's {@code config.json}
     * in the comments. {@code experts = 1} is a dense model.
     */
    public record Architecture(String name,
                               int vocabSize,           // vocab_size
                               int embedding,           // hidden_size
                               int layers,              // num_hidden_layers
                               int heads,               // num_attention_heads
                               int kvHeads,             // num_key_value_heads
                               int feedForward,         // intermediate_size
                               int experts,             // num_local_experts (1 = dense)
                               int expertsPerToken,     // num_experts_per_tok
                               boolean tiedEmbeddings,  // tie_word_embeddings
                               double publishedBillions,
                               double publishedActiveBillions) {

        public Architecture {
            if (embedding % heads != 0 || heads % kvHeads != 0)
                throw new IllegalArgumentException(name + ": " + heads + " heads do not split " + embedding + " into groups of " + kvHeads + " KV heads");
            if (expertsPerToken < 1 || expertsPerToken > experts)
                throw new IllegalArgumentException(name + ": " + expertsPerToken + " experts per token out of " + experts);
        }

        public int headSize() { return embedding / heads; }

        /** Width of one position's keys (and of its values): KV heads x head size. */
        public int kvDim() { return kvHeads * headSize(); }

        /** Query heads that share one key/value head. */
        public int groupSize() { return heads / kvHeads; }

        /** One token id -> one vector: vocab x embedding. */
        public long embeddingParameters() { return (long) vocabSize * embedding; }

        /** q_proj and o_proj (embedding x embedding each), k_proj and v_proj (embedding x kvDim each). */
        public long attentionParameters() { return 2L * embedding * embedding + 2L * embedding * kvDim(); }

        /** One SwiGLU feed-forward network: gate and up (embedding -> feedForward) and down (back). */
        public long expertParameters() { return 3L * embedding * feedForward; }

        /** The router of a Mixture of Experts: one score per expert (embedding x experts); none in a dense model. */
        public long routerParameters() { return experts > 1 ? (long) embedding * experts : 0; }

        /** The two RMSNorm weight vectors of a block. */
        public long normParameters() { return 2L * embedding; }

        /** One whole block: attention, every expert, the router and the norms. */
        public long blockParameters() {
            return attentionParameters() + experts * expertParameters() + routerParameters() + normParameters();
        }

        /** The LM head (embedding -> vocab), which tied models share with the embedding. */
        public long lmHeadParameters() { return tiedEmbeddings ? 0 : (long) vocabSize * embedding; }

        /** Everything stored: embeddings, all blocks, the final norm and the LM head. */
        public long parameters() {
            return embeddingParameters() + layers * blockParameters() + embedding + lmHeadParameters();
        }

        /**
         * What one token goes through: the same, but only {@code expertsPerToken} experts per block.
         * (Its own embedding row is all it reads of the table, but like Mixtral's paper we count the table.)
         */
        public long activeParameters() {
            long block = attentionParameters() + expertsPerToken * expertParameters() + routerParameters() + normParameters();
            return embeddingParameters() + layers * block + embedding + lmHeadParameters();
        }

        /**
         * The KV cache: every layer keeps a key and a value vector (kvHeads x head size) per token:
         * 2 x layers x kvHeads x headSize x tokens x bytes per number.
         */
        public long kvCacheBytes(long tokens, int bytesPerValue) {
            return 2L * layers * kvHeads * headSize() * tokens * bytesPerValue;
        }
    }

    /** microsoft/Phi-3-mini-4k-instruct: 3.8B parameters, every head with its own keys and values. */
    public static final Architecture PHI3_MINI =
            new Architecture("Phi-3-mini", 32064, 3072, 32, 32, 32, 8192, 1, 1, false, 3.8, 3.8);

    /** meta-llama/Meta-Llama-3-8B: grouped-query attention, 4 query heads per KV head. */
    public static final Architecture LLAMA3_8B =
            new Architecture("Llama-3-8B", 128256, 4096, 32, 32, 8, 14336, 1, 1, false, 8.0, 8.0);

    /** mistralai/Mixtral-8x7B-v0.1: Mistral-7B's shape with 8 experts per block, 2 used per token. */
    public static final Architecture MIXTRAL_8X7B =
            new Architecture("Mixtral-8x7B", 32000, 4096, 32, 32, 8, 14336, 8, 2, false, 46.7, 12.9);

    /**
     * The feed-forward width by the rule of Meta's Llama code: start from 4 x embedding (the original
     * transformer's), take 2/3 of it because SwiGLU has three matrices instead of two (same parameter
     * count), scale by {@code ffnDimMultiplier}, then round up to a multiple of {@code multipleOf}.
     * Llama-3-8B: 4096, 1.3, 1024 gives 14336.
     */
    public static int llamaFeedForward(int embedding, double ffnDimMultiplier, int multipleOf) {
        int hidden = 4 * embedding;
        hidden = (int) (2.0 * hidden / 3);
        hidden = (int) (ffnDimMultiplier * hidden);
        return multipleOf * ((hidden + multipleOf - 1) / multipleOf);
    }

    /** A count the way papers write it: 3.82B, 98.5M, 12.6K. */
    public static String count(long n) {
        if (n >= 1e9) return String.format(Locale.ROOT, "%.2fB", n / 1e9);
        if (n >= 1e6) return String.format(Locale.ROOT, "%.1fM", n / 1e6);
        if (n >= 1e3) return String.format(Locale.ROOT, "%.1fK", n / 1e3);
        return Long.toString(n);
    }

    /** Bytes in binary units: 1.50 GiB, 384 KiB. */
    public static String bytes(long n) {
        if (n >= 1L << 30) return String.format(Locale.ROOT, "%.2f GiB", n / (double) (1L << 30));
        if (n >= 1L << 20) return String.format(Locale.ROOT, "%.1f MiB", n / (double) (1L << 20));
        if (n >= 1L << 10) return String.format(Locale.ROOT, "%.0f KiB", n / (double) (1L << 10));
        return n + " B";
    }
}
