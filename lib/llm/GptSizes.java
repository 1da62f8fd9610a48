package llm;

/**
 * How many parameters a GPT (GPT-1, GPT-2, GPT-3) has, from its published shape alone. These are the
 * original transformer decoder with learned position embeddings, LayerNorm (a weight and a bias),
 * biases on every linear layer, a feed-forward network 4 × wider than the model, and an LM head that
 * reuses the token embedding matrix (tied). (The Llama-style models, Phi-3 among them, are counted by
 * {@link ModelSizes}.)
 *
 * <pre>
 * per block:  attention  Q, K, V, output: 4·(d·d + d)          = 4d² + 4d
 *             feed-forward d→4d→d: d·4d + 4d + 4d·d + d       = 8d² + 5d
 *             two LayerNorms: 2·2d                             = 4d
 *                                                        total = 12d² + 13d
 * model:      vocab·d (tokens) + context·d (positions) + layers·(12d² + 13d) + 2d (final LayerNorm, GPT-2 on)
 * </pre>
 */
public final class GptSizes {

    private GptSizes() {}

    /**
     * A GPT's shape as its paper gives it, and the size the paper states ({@code published}).
     * {@code finalNorm}: GPT-2 moved LayerNorm to the input of each sub-block and added one after the
     * last block; GPT-1 has none there.
     */
    public record Shape(String name, int layers, int embedding, int vocabSize, int context, boolean finalNorm, double published) {
        public Shape {
            if (layers <= 0 || embedding <= 0 || vocabSize <= 0 || context <= 0)
                throw new IllegalArgumentException(name + ": layers, embedding, vocabulary and context must be positive");
        }

        /** Token embeddings (vocab × d); the LM head shares them. */
        public long tokenEmbeddings() { return (long) vocabSize * embedding; }

        /** Learned position embeddings (context × d). */
        public long positionEmbeddings() { return (long) context * embedding; }

        /** Q, K, V and the output projection, each d×d with a bias. */
        public long attention() { return 4L * embedding * embedding + 4L * embedding; }

        /** d → 4d → d, with biases. */
        public long feedForward() { return 8L * embedding * embedding + 5L * embedding; }

        /** Two LayerNorms of a block, each a weight and a bias. */
        public long norms() { return 4L * embedding; }

        /** One block: 12d² + 13d. */
        public long block() { return attention() + feedForward() + norms(); }

        public long parameters() {
            return tokenEmbeddings() + positionEmbeddings() + layers * block() + (finalNorm ? 2L * embedding : 0);
        }
    }

    /** GPT-1 (Radford et al. 2018): 12 layers of 768, 40,478 BPE tokens, 512 positions; "117M". */
    public static final Shape GPT1 = new Shape("GPT-1", 12, 768, 40478, 512, false, 117e6);

    /**
     * GPT-2 small as released (124M by count); the GPT-2 paper's table gave it as 117M, a figure
     * the released models do not match (the table was off for the smaller sizes).
     */
    public static final Shape GPT2_SMALL = new Shape("GPT-2 small", 12, 768, 50257, 1024, true, 117e6);

    /** GPT-2 XL (Radford et al. 2019), "GPT-2" in the news: 48 layers of 1600; the paper's table says 1542M. */
    public static final Shape GPT2_XL = new Shape("GPT-2 XL", 48, 1600, 50257, 1024, true, 1542e6);

    /** GPT-3 175B (Brown et al. 2020): 96 layers of 12288, 2048 positions; 175.0B in its table. */
    public static final Shape GPT3 = new Shape("GPT-3", 96, 12288, 50257, 2048, true, 175.0e9);
}
