//SOURCES Phi3.java
//SOURCES Sampler.java
package llm;

import java.util.Arrays;
import java.util.List;

/**
 * Autoregressive generation: the prompt goes through the model in one batched prefill (filling the KV
 * cache), then one token at a time is chosen by a {@link Sampler}, fed back, and so on until a stop token,
 * the token limit or the end of the context.
 *
 * <pre>
 * Generation.Result r = new Generation(model).sampler(Sampler.greedy()).maxNewTokens(50)
 *         .listener((step, id, top) -> streamer.accept(id)).generate(promptIds);
 * </pre>
 *
 * Settings are kept between runs; a Generation is not thread-safe.
 */
public final class Generation {

    /** Phi-3's ends of a turn: {@code <|end|>} 32007, {@code <|endoftext|>} 32000, {@code <|assistant|>} 32001. */
    public static final int[] PHI3_STOP_IDS = {32007, 32000, 32001};

    /**
     * One of the most likely next tokens: its raw logit, its probability softmax(logits) (temperature 1),
     * and whether the decoding strategy could have picked it (greedy: only the first; top-k / top-p: the
     * tokens they keep).
     */
    public record TopToken(int id, float logit, float probability, boolean allowed) {}

    /** Receives each generated token as it is chosen. */
    @FunctionalInterface
    public interface Listener {
        /**
         * {@code step} counts generated tokens from 0; {@code top} holds the {@link #topLogits} most likely
         * tokens of the distribution {@code id} was chosen from (highest first), or is empty when not asked for.
         * A stop token is not reported.
         */
        void onToken(int step, int id, List<TopToken> top);
    }

    /** Why generation ended. */
    public enum StopReason { STOP_TOKEN, MAX_TOKENS, CONTEXT_FULL }

    /**
     * The outcome: the prompt, the generated ids (without the stop token), the stop token (-1 if none),
     * and timings (prefill = the prompt up to the first chosen token; decode = the rest).
     */
    public record Result(int[] promptIds, int[] ids, StopReason stopReason, int stopId, long prefillNanos, long decodeNanos) {
        /** Tokens per second after the first one (0 when fewer than two were generated). */
        public double decodeTokensPerSecond() {
            return ids.length > 1 && decodeNanos > 0 ? (ids.length - 1 + (stopId >= 0 ? 1 : 0)) * 1e9 / decodeNanos : 0;
        }
    }

    private final Phi3 model;
    private Sampler sampler = Sampler.greedy();
    private int maxNewTokens = 256;
    private int[] stopIds = PHI3_STOP_IDS.clone();
    private int topLogits;
    private boolean useCache = true;
    private Listener listener;

    public Generation(Phi3 model) {
        this.model = model;
    }

    /** The decoding strategy (default greedy). */
    public Generation sampler(Sampler sampler) {
        this.sampler = sampler;
        return this;
    }

    /** The most tokens to generate (default 256). */
    public Generation maxNewTokens(int maxNewTokens) {
        if (maxNewTokens < 0) throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        this.maxNewTokens = maxNewTokens;
        return this;
    }

    /** Tokens that end the answer (default {@link #PHI3_STOP_IDS}); none with an empty array. */
    public Generation stopIds(int... stopIds) {
        this.stopIds = stopIds.clone();
        return this;
    }

    /** How many of the most likely tokens the listener receives each step (default 0: none, no cost). */
    public Generation topLogits(int k) {
        if (k < 0) throw new IllegalArgumentException("top logits must be >= 0, got " + k);
        this.topLogits = k;
        return this;
    }

    /**
     * Whether to keep a KV cache (default true). Without it every step runs the whole sequence again, as
     * Hugging Face does with {@code use_cache=False}; only useful to show what the cache saves.
     */
    public Generation useCache(boolean useCache) {
        this.useCache = useCache;
        return this;
    }

    /** Who hears about each token (null: nobody). */
    public Generation listener(Listener listener) {
        this.listener = listener;
        return this;
    }

    /** Generates a continuation of {@code prompt} in a fresh state just large enough. */
    public Result generate(int... prompt) {
        int context = model.config().contextLength();
        if (prompt.length > context)
            throw new Phi3.ContextOverflowException("the prompt has " + prompt.length + " tokens, more than the context length " + context);
        int size = (int) Math.min(context, (long) prompt.length + maxNewTokens);
        return generate(model.newState(Math.max(1, size)), prompt);
    }

    /** Continues the sequence in {@code state} (e.g. a conversation) with {@code prompt}, then generates. */
    public Result generate(Phi3.State state, int... prompt) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty: give at least one token (e.g. <s> = 1)");
        int vocab = model.config().vocabSize();
        int[] sequence = useCache ? null : new int[Math.max(state.maxTokens(), 1)]; // for the runs without cache
        int sequenceLength = 0;
        if (!useCache) {
            if (state.position() + prompt.length > sequence.length)
                throw new Phi3.ContextOverflowException(prompt.length + " tokens do not fit: " + state.position()
                        + " already cached + " + prompt.length + " > " + state.maxTokens());
            if (state.position() > 0) throw new IllegalArgumentException("generation without a KV cache starts from an empty state");
            System.arraycopy(prompt, 0, sequence, 0, prompt.length);
            sequenceLength = prompt.length;
        }

        long started = System.nanoTime();
        float[] logits = model.forward(state, prompt);
        int[] ids = new int[maxNewTokens];
        int count = 0, stopId = -1;
        StopReason reason = StopReason.MAX_TOKENS;
        long firstToken = 0;
        TopLogits top = topLogits > 0 && listener != null ? new TopLogits(topLogits, sampler, vocab) : null;
        while (count < maxNewTokens) {
            int id = sampler.sample(logits, 0, vocab);
            if (count == 0) firstToken = System.nanoTime();
            if (isStop(id)) {
                stopId = id;
                reason = StopReason.STOP_TOKEN;
                break;
            }
            ids[count] = id;
            if (listener != null) listener.onToken(count, id, top == null ? List.of() : top.of(logits, vocab));
            count++;
            if (count == maxNewTokens) break;
            if (state.position() >= state.maxTokens()) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            if (useCache) {
                logits = model.forward(state, ids, count - 1, 1);
            } else {
                sequence[sequenceLength++] = id;
                state.reset();
                logits = model.forward(state, sequence, 0, sequenceLength);
            }
        }
        long ended = System.nanoTime();
        if (firstToken == 0) firstToken = ended;
        return new Result(prompt.clone(), Arrays.copyOf(ids, count), reason, stopId, firstToken - started, ended - firstToken);
    }

    private boolean isStop(int id) {
        for (int s : stopIds) if (s == id) return true;
        return false;
    }

    /** The k highest logits with their probabilities (softmax over the whole vocabulary, temperature 1). */
    static final class TopLogits {
        private final int[] ids;
        private final Sampler sampler;
        private final int[] allowedIds;
        private final float[] allowedProbs;

        TopLogits(int k, Sampler sampler, int vocab) {
            ids = new int[k];
            this.sampler = sampler;
            allowedIds = new int[vocab];
            allowedProbs = new float[vocab];
        }

        List<TopToken> of(float[] logits, int vocab) {
            int k = Math.min(ids.length, vocab), filled = 0;
            // Insertion into a small sorted list: one pass over the vocabulary, k is small.
            for (int i = 0; i < vocab; i++) {
                if (filled == k && logits[i] <= logits[ids[k - 1]]) continue;
                int j = filled < k ? filled++ : k - 1;
                while (j > 0 && logits[ids[j - 1]] < logits[i]) { ids[j] = ids[j - 1]; j--; }
                ids[j] = i;
            }
            float max = logits[ids[0]];
            double sum = 0;
            for (int i = 0; i < vocab; i++) sum += Math.exp(logits[i] - max);
            // Which of them the strategy keeps: its candidates come most likely first, so a token below
            // the last candidate's probability is out.
            int allowedCount = sampler.candidates(logits, 0, vocab, allowedIds, allowedProbs);
            TopToken[] top = new TopToken[k];
            for (int j = 0; j < k; j++) {
                boolean allowed = false;
                for (int c = 0; c < allowedCount && !allowed; c++) allowed = allowedIds[c] == ids[j];
                top[j] = new TopToken(ids[j], logits[ids[j]], (float) (Math.exp(logits[ids[j]] - max) / sum), allowed);
            }
            return List.of(top);
        }
    }
}
