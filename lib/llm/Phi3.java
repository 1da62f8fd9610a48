//SOURCES Attention.java
//SOURCES Gguf.java
//SOURCES FloatTensor.java
//SOURCES Parallel.java
//SOURCES GgufException.java
//RUNTIME_OPTIONS -XX:+UseSerialGC -XX:PretenureSizeThreshold=1m
package llm;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;

/**
 * Phi-3 (Abdin et al. 2024) read from a GGUF file: its config, its weights (memory-mapped, never copied)
 * and the forward pass, which reads like Hugging Face's printout of {@code Phi3ForCausalLM}:
 *
 * <pre>
 * embed_tokens
 * N x Phi3DecoderLayer:  input_layernorm (RMSNorm) -> qkv_proj -> RoPE -> attention (KV cache) -> o_proj -> + residual
 *                        post_attention_layernorm (RMSNorm) -> gate_up_proj -> SiLU(gate) * up -> down_proj -> + residual
 * norm (RMSNorm) -> lm_head
 * </pre>
 *
 * The attention, RoPE, RMSNorm and SiLU are the ones in {@link Attention}, which the lessons show.
 * GGUF names (llama.cpp) and Hugging Face names: token_embd = embed_tokens, attn_norm = input_layernorm,
 * attn_qkv = qkv_proj, attn_output = o_proj, ffn_norm = post_attention_layernorm, ffn_up = gate_up_proj
 * (gate rows first, then up), ffn_down = down_proj, output_norm = norm, output = lm_head.
 *
 * <p>The JVM options above: decoding allocates nothing, so the simplest collector is enough and keeps the
 * heap small (G1 held ~350 MiB more); arrays of 1 MiB and more (the KV cache) go straight to the old
 * generation, so no collection copies them while the model loads.
 *
 * <p>Files of architecture {@code llama} with Phi-3's shapes (split q/k/v and gate/up, as some early
 * conversions wrote them) are accepted too; like llama.cpp they get the NORM RoPE (adjacent pairs),
 * phi3 files the NEOX RoPE.
 */
public final class Phi3 implements AutoCloseable {

    /** Tokens run through the layers together during prefill (their buffers live in the {@link State}). */
    public static final int PREFILL_BATCH = 32;

    /** The hyper-parameters, from the {@code phi3.*} (or {@code llama.*}) metadata. */
    public record Config(String architecture, int contextLength, int embeddingLength, int blockCount, int headCount,
                         int headCountKv, int feedForwardLength, float rmsNormEps, float ropeFreqBase,
                         int ropeDimensionCount, int vocabSize, Attention.RopeStyle ropeStyle) {
        public int headSize() { return embeddingLength / headCount; }
        /** Width of the keys (and values) of one position: KV heads x head size. */
        public int kvDim() { return headCountKv * headSize(); }
    }

    /**
     * One decoder layer's weights. Either {@code attnQkv} (fused) or {@code attnQ/attnK/attnV}; either
     * {@code ffnUp} with 2 x feed-forward rows (gate then up, fused) and no {@code ffnGate}, or both
     * {@code ffnGate} and {@code ffnUp} with feed-forward rows each.
     */
    public record Block(float[] attnNorm, FloatTensor attnQkv, FloatTensor attnQ, FloatTensor attnK, FloatTensor attnV,
                        FloatTensor attnOutput, float[] ffnNorm, FloatTensor ffnGate, FloatTensor ffnUp, FloatTensor ffnDown) {}

    /**
     * Sees inside a forward pass (for the lessons: logit lens, attention maps). A model without an
     * observer does none of this work. The arrays are the model's buffers: read (or copy) during the call.
     */
    public interface Observer {
        /** The residual stream after block {@code layer} for the token at {@code position}: {@code hidden[offset ..+embedding)}. */
        default void blockOutput(int layer, int position, float[] hidden, int offset) {}

        /** Whether {@link #attention} should be called (one call per layer, head and position). */
        default boolean wantsAttention() { return false; }

        /** The attention weights of query {@code position} in {@code layer}/{@code head} over positions 0..position: {@code probs[offset ..+length)}. */
        default void attention(int layer, int head, int position, float[] probs, int offset, int length) {}

        /** Whether {@link #step} should be called (each step of each layer, for each position). */
        default boolean wantsSteps() { return false; }

        /** The values after {@code step} in {@code layer} for the token at {@code position}: {@code values[offset ..+length)}. */
        default void step(int layer, Step step, int position, float[] values, int offset, int length) {}
    }

    /**
     * The steps inside a decoder layer, in the order they run, named as in Hugging Face's Phi3DecoderLayer.
     * Widths: QKV_PROJ and ROPE hold q | k | v (embedding + 2 x KV width), GATE_UP_PROJ gate | up
     * (2 x feed-forward), SWIGLU the feed-forward width, the others the embedding. The layer's output
     * (after the second residual) is {@link Observer#blockOutput}.
     */
    public enum Step { INPUT_LAYERNORM, QKV_PROJ, ROPE, ATTENTION, O_PROJ, ATTENTION_RESIDUAL, POST_ATTENTION_LAYERNORM, GATE_UP_PROJ, SWIGLU, DOWN_PROJ }

    /** A prompt (or a continuation) that does not fit in the context. */
    public static final class ContextOverflowException extends IllegalArgumentException {
        public ContextOverflowException(String message) { super(message); }
    }

    /**
     * What a sequence has left behind: the KV cache (keys and values of every position so far, per layer)
     * and the work buffers of the forward pass, so decoding allocates nothing per token. The first forward
     * pass allocates the cache for all {@link #maxTokens()} positions if that takes at most
     * {@link #WHOLE_CACHE_BYTES}, as llama.cpp sizes its context once: growing it mid-generation would stall
     * a token while fresh memory is zeroed and the old cache copied (0.6 s for Phi-3-mini's 192 positions
     * on this project's test machine). A larger cache starts at that size and doubles as it fills. Not
     * thread-safe: one state per conversation.
     */
    public static final class State {
        /** The largest KV cache allocated at once (Phi-3-mini: 341 positions). */
        static final long WHOLE_CACHE_BYTES = 256L << 20;
        private final Phi3 model;
        private final int maxTokens;
        private int capacity;
        private int position;
        private final float[][] keyCache, valueCache; // [layer][position * kvDim + kvHead * headSize + i]
        private float[] att;                          // attention weights, [head * capacity + position]
        // Per prefill batch (PREFILL_BATCH rows each)
        final float[] x, xb, xb2, qkv, hb, cos, sin;
        final float[] hidden, logits;
        private Observer observer;
        private final LayerWork layerWork = new LayerWork(this);

        private State(Phi3 model, int maxTokens) {
            Config c = model.config;
            this.model = model;
            this.maxTokens = maxTokens;
            int dim = c.embeddingLength();
            keyCache = new float[c.blockCount()][];
            valueCache = new float[c.blockCount()][];
            x = new float[PREFILL_BATCH * dim];
            xb = new float[PREFILL_BATCH * dim];
            xb2 = new float[PREFILL_BATCH * dim];
            qkv = new float[PREFILL_BATCH * (dim + 2 * c.kvDim())];
            hb = new float[PREFILL_BATCH * 2 * c.feedForwardLength()];
            cos = new float[PREFILL_BATCH * c.ropeDimensionCount() / 2];
            sin = new float[PREFILL_BATCH * c.ropeDimensionCount() / 2];
            hidden = new float[dim];
            logits = new float[c.vocabSize()];
        }

        private void grow(int newCapacity) {
            int kvDim = model.config.kvDim();
            for (int l = 0; l < keyCache.length; l++) {
                keyCache[l] = keyCache[l] == null ? new float[newCapacity * kvDim] : Arrays.copyOf(keyCache[l], newCapacity * kvDim);
                valueCache[l] = valueCache[l] == null ? new float[newCapacity * kvDim] : Arrays.copyOf(valueCache[l], newCapacity * kvDim);
            }
            att = new float[model.config.headCount() * newCapacity];
            capacity = newCapacity;
        }

        private void ensureCapacity(int tokens) {
            if (tokens <= capacity) return;
            long bytesPerPosition = 2L * keyCache.length * model.config.kvDim() * Float.BYTES; // a key and a value per layer
            long first = Math.max(1, WHOLE_CACHE_BYTES / bytesPerPosition);
            grow((int) Math.min(maxTokens, Math.max(tokens, capacity == 0 ? first : 2L * capacity)));
        }

        /** Tokens in the KV cache (the position the next token gets). */
        public int position() { return position; }

        /** The most tokens this state can hold (at most the model's context length). */
        public int maxTokens() { return maxTokens; }

        /** Forgets every cached token (keeps the memory). */
        public void reset() { position = 0; }

        /** Forgets the cached tokens from {@code length} on (e.g. to regenerate from an earlier point). */
        public void truncate(int length) {
            if (length < 0 || length > position)
                throw new IllegalArgumentException("cannot truncate " + position + " cached tokens to " + length);
            position = length;
        }

        /** Sets (or, with null, removes) the observer of the following forward passes. Returns this. */
        public State observer(Observer observer) {
            this.observer = observer;
            return this;
        }
    }

    private final Gguf gguf;
    private final boolean ownsFile;
    private final String source;
    private final Config config;
    private final FloatTensor tokenEmbd;
    private final Block[] blocks;
    private final float[] outputNorm;
    private final FloatTensor output;

    private Phi3(Gguf gguf, String source, boolean ownsFile) {
        this.gguf = gguf;
        this.source = source;
        this.ownsFile = ownsFile;
        this.config = readConfig();
        Config c = config;
        int dim = c.embeddingLength(), kvDim = c.kvDim(), ff = c.feedForwardLength();
        boolean llama = c.architecture().equals("llama");
        tokenEmbd = matrix("token_embd.weight", dim, c.vocabSize());
        blocks = new Block[c.blockCount()];
        for (int i = 0; i < blocks.length; i++) {
            String p = "blk." + i + ".";
            boolean fusedQkv = !llama && has(p + "attn_qkv.weight");
            boolean fusedUp = !llama && !has(p + "ffn_gate.weight");
            blocks[i] = new Block(
                    vector(p + "attn_norm.weight", dim),
                    fusedQkv ? matrix(p + "attn_qkv.weight", dim, dim + 2L * kvDim) : null,
                    fusedQkv ? null : matrix(p + "attn_q.weight", dim, dim),
                    fusedQkv ? null : matrix(p + "attn_k.weight", dim, kvDim),
                    fusedQkv ? null : matrix(p + "attn_v.weight", dim, kvDim),
                    matrix(p + "attn_output.weight", dim, dim),
                    vector(p + "ffn_norm.weight", dim),
                    fusedUp ? null : matrix(p + "ffn_gate.weight", dim, ff),
                    matrix(p + "ffn_up.weight", dim, fusedUp ? 2L * ff : ff),
                    matrix(p + "ffn_down.weight", ff, dim));
        }
        outputNorm = vector("output_norm.weight", dim);
        // Files with tied embeddings have no lm_head of their own: the embedding matrix serves (as in llama.cpp).
        output = has("output.weight") ? matrix("output.weight", dim, c.vocabSize()) : tokenEmbd;
    }

    /** Opens a GGUF file (memory-mapped) and reads the model; {@link #close()} closes the file. */
    public static Phi3 load(Path file) {
        Gguf gguf = Gguf.open(file);
        try {
            return new Phi3(gguf, String.valueOf(file.getFileName()), true);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    /** The model in an already opened GGUF file (which the caller keeps and closes). */
    public static Phi3 of(Gguf gguf, String name) {
        return new Phi3(gguf, name, false);
    }

    public Config config() { return config; }
    public Gguf gguf() { return gguf; }
    public Block block(int layer) { return blocks[layer]; }
    public FloatTensor tokenEmbedding() { return tokenEmbd; }
    public float[] outputNorm() { return outputNorm; }
    /** The LM head (the token embedding when the file has no {@code output.weight}). */
    public FloatTensor output() { return output; }

    @Override
    public void close() {
        if (ownsFile) gguf.close();
    }

    // ---------------------------------------------------------------------------------------------
    // Reading the file

    private Config readConfig() {
        String arch = gguf.has("general.architecture") ? gguf.getString("general.architecture") : "(none)";
        if (!arch.equals("phi3") && !arch.equals("llama"))
            throw new GgufException(source + ": general.architecture is '" + Gguf.shown(arch) + "', but this engine runs only phi3 (or llama-style Phi-3) models");
        for (String name : gguf.tensors().keySet())
            if (name.startsWith("rope_factors") || name.contains(".rope_factors"))
                throw new GgufException(source + ": tensor '" + Gguf.shown(name) + "' asks for LongRoPE scaling (Phi-3 128k), which is not supported");
        int dim = positive(arch + ".embedding_length", gguf.getInt(arch + ".embedding_length"));
        int heads = positive(arch + ".attention.head_count", gguf.getInt(arch + ".attention.head_count"));
        int kvHeads = positive(arch + ".attention.head_count_kv", gguf.getInt(arch + ".attention.head_count_kv", heads));
        if (dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0)
            throw new GgufException(source + ": " + dim + " embedding, " + heads + " heads and " + kvHeads
                    + " KV heads do not split into equal even-sized heads shared by whole groups");
        int headSize = dim / heads;
        int nRot = gguf.getInt(arch + ".rope.dimension_count", headSize);
        if (nRot <= 0 || nRot > headSize || nRot % 2 != 0)
            throw new GgufException(source + ": " + arch + ".rope.dimension_count is " + nRot + ", expected an even number up to the head size " + headSize);
        if (!gguf.tensors().containsKey("token_embd.weight"))
            throw new GgufException(source + ": tensor 'token_embd.weight' not found");
        long[] embShape = gguf.tensors().get("token_embd.weight").shape();
        if (embShape.length < 2 || embShape[1] <= 0 || embShape[1] > Integer.MAX_VALUE)
            throw new GgufException(source + ": tensor 'token_embd.weight' has shape " + Arrays.toString(embShape) + ", expected [" + dim + ", vocabulary]");
        int vocab = (int) embShape[1];
        Object tokens = gguf.metadata().get("tokenizer.ggml.tokens");
        int tokenCount = tokens instanceof Collection<?> list ? list.size() : tokens instanceof Object[] array ? array.length : vocab;
        if (tokenCount != vocab)
            throw new GgufException(source + ": tokenizer.ggml.tokens has " + tokenCount + " tokens but token_embd.weight has " + vocab + " rows");
        int blockCount = positive(arch + ".block_count", gguf.getInt(arch + ".block_count"));
        // Each block has 6 tensors or more: refuse a count the tensor table cannot back before allocating for it.
        if (blockCount > gguf.tensors().size() / 6)
            throw new GgufException(source + ": " + arch + ".block_count is " + blockCount + ", but the file has only "
                    + gguf.tensors().size() + " tensors (a block has at least 6)");
        return new Config(arch,
                positive(arch + ".context_length", gguf.getInt(arch + ".context_length")),
                dim,
                blockCount,
                heads, kvHeads,
                positive(arch + ".feed_forward_length", gguf.getInt(arch + ".feed_forward_length")),
                gguf.getFloat(arch + ".attention.layer_norm_rms_epsilon", 1e-5f),
                gguf.getFloat(arch + ".rope.freq_base", 10000f),
                nRot, vocab,
                arch.equals("llama") ? Attention.RopeStyle.NORM : Attention.RopeStyle.NEOX);
    }

    private int positive(String key, int value) {
        if (value <= 0) throw new GgufException(source + ": " + key + " is " + value + ", expected a positive number");
        return value;
    }

    private boolean has(String tensor) {
        return gguf.tensors().containsKey(tensor);
    }

    private Gguf.TensorInfo require(String name, long rowLength, long rows) {
        Gguf.TensorInfo info = gguf.tensors().get(name);
        if (info == null) throw new GgufException(source + ": tensor '" + name + "' not found");
        long[] shape = info.shape();
        // GGUF shapes list the row length first; trailing 1s carry no meaning.
        int dims = shape.length;
        while (dims > 1 && shape[dims - 1] == 1) dims--;
        boolean ok = rows == 1 ? dims == 1 && shape[0] == rowLength : dims == 2 && shape[0] == rowLength && shape[1] == rows;
        if (!ok)
            throw new GgufException(source + ": tensor '" + name + "' has shape " + Arrays.toString(shape) + ", expected "
                    + (rows == 1 ? "[" + rowLength + "]" : "[" + rowLength + ", " + rows + "]"));
        return info;
    }

    /** Widths in long: for absurd hyper-parameters (refused here) dim + 2 * kvDim overflows an int. */
    private FloatTensor matrix(String name, long rowLength, long rows) {
        require(name, rowLength, rows);
        return gguf.tensor(name);
    }

    /** Small vectors (the norms' weights) are read once into an array. */
    private float[] vector(String name, int length) {
        require(name, length, 1);
        float[] values = new float[length];
        gguf.tensor(name).dequantize(0, values, 0, length);
        return values;
    }

    // ---------------------------------------------------------------------------------------------
    // Forward pass

    /** A state (KV cache and buffers) for up to the full context length. */
    public State newState() {
        return newState(config.contextLength());
    }

    /** A state for up to {@code maxTokens} tokens (at most the context length); smaller ones use less memory. */
    public State newState(int maxTokens) {
        if (maxTokens < 1 || maxTokens > config.contextLength())
            throw new IllegalArgumentException("a state holds 1 to " + config.contextLength() + " tokens (the context length), not " + maxTokens);
        return new State(this, maxTokens);
    }

    /**
     * Runs {@code tokens} at the state's next positions (appending them to its KV cache) and returns the
     * logits for the token after the last one. The returned array is the state's buffer: it is overwritten
     * by the next call.
     */
    public float[] forward(State state, int... tokens) {
        return forward(state, tokens, 0, tokens.length);
    }

    /** {@link #forward(State, int...)} on {@code tokens[offset ..+length)}. */
    public float[] forward(State state, int[] tokens, int offset, int length) {
        run(state, tokens, offset, length, null, null);
        return state.logits;
    }

    /** Runs {@code tokens} like {@link #forward} and returns the logits at every one of their positions ({@code [length][vocab]}). */
    public float[][] forwardAll(State state, int... tokens) {
        float[][] all = new float[tokens.length][config.vocabSize()];
        run(state, tokens, 0, tokens.length, all, null);
        return all;
    }

    /**
     * Runs {@code tokens} like {@link #forward} and returns the hidden states the LM head would see (after
     * the final norm; Hugging Face's {@code model.model(ids)[0]}), {@code [length][embedding]}.
     */
    public float[][] hiddenStates(State state, int... tokens) {
        float[][] all = new float[tokens.length][config.embeddingLength()];
        run(state, tokens, 0, tokens.length, null, all);
        return all;
    }

    /** The final RMSNorm ({@code norm}) of one residual-stream vector. */
    public void finalNorm(float[] residual, int offset, float[] out, int outOffset) {
        Attention.rmsNorm(out, outOffset, residual, offset, outputNorm, config.embeddingLength(), config.rmsNormEps());
    }

    /** The LM head: one score per vocabulary token for a (normed) hidden state. */
    public void lmHead(float[] hidden, int offset, float[] logits, int logitsOffset) {
        output.matVec(hidden, offset, logits, logitsOffset, config.vocabSize(), config.embeddingLength());
    }

    /** Reports one step for every token of a batch: token b's values start at {@code b*stride + offset}. */
    private interface Steps {
        void report(int layer, Step step, float[] buffer, int stride, int offset, int length);
    }

    /**
     * Runs the tokens through the model, a prefill batch at a time. What comes out: the logits of every
     * position into {@code allLogits}, or the hidden states into {@code allHidden}, or (both null, the
     * decoding case, which allocates nothing) the last position's logits into {@code state.logits}.
     */
    private void run(State state, int[] tokens, int offset, int length, float[][] allLogits, float[][] allHidden) {
        if (state.model != this) throw new IllegalArgumentException("this state belongs to another model");
        if (offset < 0 || length < 0 || offset + length > tokens.length)
            throw new IllegalArgumentException("token range " + offset + "+" + length + " is outside an array of " + tokens.length);
        if (length == 0) throw new IllegalArgumentException("no tokens to run");
        if (state.position + length > state.maxTokens) {
            String limit = state.maxTokens == config.contextLength()
                    ? "the context length " + config.contextLength()
                    : "this state's " + state.maxTokens + " tokens (context length " + config.contextLength() + ")";
            throw new ContextOverflowException(length + " tokens do not fit: " + state.position
                    + " already cached + " + length + " > " + limit);
        }
        for (int i = offset; i < offset + length; i++)
            if (tokens[i] < 0 || tokens[i] >= config.vocabSize())
                throw new IllegalArgumentException("token id " + tokens[i] + " is outside the vocabulary (0.." + (config.vocabSize() - 1) + ")");
        int dim = config.embeddingLength();
        for (int done = 0; done < length; done += PREFILL_BATCH) {
            int n = Math.min(PREFILL_BATCH, length - done);
            blocks(state, tokens, offset + done, n);
            for (int b = 0; b < n; b++) {
                int i = done + b; // index into this call's tokens
                if (allHidden != null) {
                    finalNorm(state.x, b * dim, allHidden[i], 0);
                } else if (allLogits != null) {
                    finalNorm(state.x, b * dim, state.hidden, 0);
                    lmHead(state.hidden, 0, allLogits[i], 0);
                } else if (i == length - 1) {
                    finalNorm(state.x, b * dim, state.hidden, 0);
                    lmHead(state.hidden, 0, state.logits, 0);
                }
            }
            state.position += n;
        }
    }

    /**
     * Runs {@code n} (at most PREFILL_BATCH) tokens at positions {@code state.position ..} through the
     * embedding and every block, layer by layer, leaving token b's residual stream in {@code state.x[b*dim ..]}.
     */
    private void blocks(State s, int[] tokens, int offset, int n) {
        Config c = config;
        int dim = c.embeddingLength(), kvDim = c.kvDim(), headSize = c.headSize(), ff = c.feedForwardLength();
        int heads = c.headCount(), kvHeads = c.headCountKv(), nRot = c.ropeDimensionCount(), half = nRot / 2;
        int qkvWidth = dim + 2 * kvDim;
        float eps = c.rmsNormEps();
        float scale = (float) (1.0 / Math.sqrt(headSize)); // Q·K / √head_size
        int start = s.position;
        s.ensureCapacity(start + n);
        Observer observer = s.observer;
        boolean showAttention = observer != null && observer.wantsAttention();
        Steps steps = observer != null && observer.wantsSteps() ? (layer, step, buffer, stride, from, length) -> {
            for (int b = 0; b < n; b++) observer.step(layer, step, start + b, buffer, b * stride + from, length);
        } : null;

        // embed_tokens: one row of the embedding matrix per token
        for (int b = 0; b < n; b++) tokenEmbd.dequantize((long) tokens[offset + b] * dim, s.x, b * dim, dim);
        // RoPE angles depend only on the position: once per token for all layers and heads
        for (int b = 0; b < n; b++) Attention.ropeAngles(start + b, nRot, c.ropeFreqBase(), s.cos, s.sin, b * half);

        for (int layer = 0; layer < c.blockCount(); layer++) {
            Block w = blocks[layer];
            float[] keyCache = s.keyCache[layer], valueCache = s.valueCache[layer];

            // input_layernorm
            for (int b = 0; b < n; b++) Attention.rmsNorm(s.xb, b * dim, s.x, b * dim, w.attnNorm(), dim, eps);
            if (steps != null) steps.report(layer, Step.INPUT_LAYERNORM, s.xb, dim, 0, dim);
            // qkv_proj: each token's row holds q (dim) | k (kvDim) | v (kvDim)
            if (w.attnQkv() != null) {
                linear(w.attnQkv(), s.xb, dim, s.qkv, qkvWidth, 0, qkvWidth, dim, n);
            } else {
                linear(w.attnQ(), s.xb, dim, s.qkv, qkvWidth, 0, dim, dim, n);
                linear(w.attnK(), s.xb, dim, s.qkv, qkvWidth, dim, kvDim, dim, n);
                linear(w.attnV(), s.xb, dim, s.qkv, qkvWidth, dim + kvDim, kvDim, dim, n);
            }
            if (steps != null) steps.report(layer, Step.QKV_PROJ, s.qkv, qkvWidth, 0, qkvWidth);
            for (int b = 0; b < n; b++) {
                int row = b * qkvWidth, position = start + b;
                // RoPE: rotate every query and key head by its position
                for (int h = 0; h < heads; h++) Attention.rope(s.qkv, row + h * headSize, nRot, s.cos, s.sin, b * half, c.ropeStyle());
                for (int g = 0; g < kvHeads; g++) Attention.rope(s.qkv, row + dim + g * headSize, nRot, s.cos, s.sin, b * half, c.ropeStyle());
                // KV cache: keep this position's keys and values for every later token
                System.arraycopy(s.qkv, row + dim, keyCache, position * kvDim, kvDim);
                System.arraycopy(s.qkv, row + dim + kvDim, valueCache, position * kvDim, kvDim);
            }
            if (steps != null) steps.report(layer, Step.ROPE, s.qkv, qkvWidth, 0, qkvWidth);
            // attention: each token looks at positions 0..itself (the causal mask), all heads; output in xb
            if (!showAttention) {
                s.layerWork.attention(keyCache, valueCache, start, 0, n, scale);
            } else { // token by token, to show each one's weights before the next token's overwrite them
                for (int b = 0; b < n; b++) {
                    s.layerWork.attention(keyCache, valueCache, start, b, 1, scale);
                    for (int h = 0; h < heads; h++) observer.attention(layer, h, start + b, s.att, h * s.capacity, start + b + 1);
                }
            }
            if (steps != null) steps.report(layer, Step.ATTENTION, s.xb, dim, 0, dim);
            // o_proj, then the residual connection
            linear(w.attnOutput(), s.xb, dim, s.xb2, dim, 0, dim, dim, n);
            if (steps != null) steps.report(layer, Step.O_PROJ, s.xb2, dim, 0, dim);
            for (int i = 0; i < n * dim; i++) s.x[i] += s.xb2[i];
            if (steps != null) steps.report(layer, Step.ATTENTION_RESIDUAL, s.x, dim, 0, dim);

            // post_attention_layernorm
            for (int b = 0; b < n; b++) Attention.rmsNorm(s.xb, b * dim, s.x, b * dim, w.ffnNorm(), dim, eps);
            if (steps != null) steps.report(layer, Step.POST_ATTENTION_LAYERNORM, s.xb, dim, 0, dim);
            // gate_up_proj: each token's row holds gate (ff) | up (ff)
            if (w.ffnGate() == null) {
                linear(w.ffnUp(), s.xb, dim, s.hb, 2 * ff, 0, 2 * ff, dim, n);
            } else {
                linear(w.ffnGate(), s.xb, dim, s.hb, 2 * ff, 0, ff, dim, n);
                linear(w.ffnUp(), s.xb, dim, s.hb, 2 * ff, ff, ff, dim, n);
            }
            if (steps != null) steps.report(layer, Step.GATE_UP_PROJ, s.hb, 2 * ff, 0, 2 * ff);
            // SiLU(gate) * up, into the gate's place
            s.layerWork.swiGlu(n);
            if (steps != null) steps.report(layer, Step.SWIGLU, s.hb, 2 * ff, 0, ff);
            // down_proj, then the residual connection
            linear(w.ffnDown(), s.hb, 2 * ff, s.xb2, dim, 0, dim, ff, n);
            if (steps != null) steps.report(layer, Step.DOWN_PROJ, s.xb2, dim, 0, dim);
            for (int i = 0; i < n * dim; i++) s.x[i] += s.xb2[i];

            if (observer != null) for (int b = 0; b < n; b++) observer.blockOutput(layer, start + b, s.x, b * dim);
        }
    }

    /**
     * A layer's attention and SwiGLU spread over the thread pool, as the matrix products are: attention one
     * query head at a time (heads are independent; on one thread they took 10 ms of a token decoded at
     * position 160), SwiGLU in slices of a token's gate. The arguments are fields, so that a call allocates
     * nothing. One per state.
     */
    private static final class LayerWork {
        static final int SWIGLU_SLICES = 4;
        private final State s;
        private final Parallel.RangeTask attentionHeads = this::attentionHeads, swiGluSlices = this::swiGluSlices;
        private float[] keyCache, valueCache;
        private int start, firstToken, tokens;
        private float scale;

        LayerWork(State s) {
            this.s = s;
        }

        /**
         * Attention of the batch's tokens firstToken.. firstToken+tokens-1 (positions start + b) into s.xb.
         * A head's weights go to its row of s.att, which its tokens share: one thread takes all of a head's
         * tokens, one after another, and the last one's weights are left there.
         */
        void attention(float[] keyCache, float[] valueCache, int start, int firstToken, int tokens, float scale) {
            this.keyCache = keyCache;
            this.valueCache = valueCache;
            this.start = start;
            this.firstToken = firstToken;
            this.tokens = tokens;
            this.scale = scale;
            Parallel.forTiles(s.model.config.headCount() * tokens, tokens, attentionHeads);
            this.keyCache = this.valueCache = null;
        }

        /** SiLU(gate) * up of the batch's n tokens, into the gate's place in s.hb. */
        void swiGlu(int n) {
            Parallel.forTiles(n * SWIGLU_SLICES, 1, swiGluSlices);
        }

        /** Units from..to-1: unit u is token firstToken + u % tokens in query head u / tokens. */
        private void attentionHeads(int from, int to) {
            Config c = s.model.config;
            int heads = c.headCount(), dim = c.embeddingLength(), qkvWidth = dim + 2 * c.kvDim();
            for (int u = from; u < to; u++) {
                int h = u / tokens, b = firstToken + u % tokens;
                Attention.groupedQueryAttention(s.qkv, b * qkvWidth, keyCache, valueCache, start + b + 1, heads,
                        c.headCountKv(), c.headSize(), scale, s.att, s.capacity, s.xb, b * dim, h, h + 1);
            }
        }

        /** Units from..to-1: unit u is slice u % SWIGLU_SLICES of token u / SWIGLU_SLICES. */
        private void swiGluSlices(int from, int to) {
            int ff = s.model.config.feedForwardLength();
            for (int u = from; u < to; u++) {
                int b = u / SWIGLU_SLICES, slice = u % SWIGLU_SLICES;
                int sliceStart = ff * slice / SWIGLU_SLICES, sliceEnd = ff * (slice + 1) / SWIGLU_SLICES;
                int gate = b * 2 * ff + sliceStart; // token b's row holds gate (ff) | up (ff)
                Attention.swiGlu(s.hb, gate, s.hb, gate + ff, s.hb, gate, sliceEnd - sliceStart);
            }
        }
    }

    /**
     * {@code out[b] = W · in[b]} for n tokens: row b of the input starts at {@code b*inStride}, of the
     * output at {@code b*outStride + outOffset}; W has {@code rows} rows of {@code cols}.
     */
    private static void linear(FloatTensor w, float[] in, int inStride, float[] out, int outStride, int outOffset,
                               int rows, int cols, int n) {
        w.matMul(in, 0, inStride, out, outOffset, outStride, rows, cols, n);
    }
}
