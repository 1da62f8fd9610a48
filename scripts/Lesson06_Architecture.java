///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION Lesson 6: the three parts of a transformer LLM with Phi-3-mini's numbers, decoding strategies, parallel token tracks and the KV cache.
//DEPS info.picocli:picocli:4.7.7
//SOURCES ../lib/llm/Cli.java
//SOURCES ../lib/llm/TokenColors.java
//SOURCES ../lib/llm/Tokenizers.java
//SOURCES ../lib/llm/ProgressBar.java
//SOURCES ../lib/llm/LessonModel.java
//SOURCES ../lib/llm/Generation.java
//SOURCES ../lib/llm/Sampler.java
//SOURCES ../lib/llm/ModelSizes.java
//SOURCES ../lib/llm/FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector -Xss4m

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import llm.Attention;
import llm.Cli;
import llm.FloatTensor;
import llm.Generation;
import llm.Hub;
import llm.LessonModel;
import llm.ModelSizes;
import llm.Phi3;
import llm.ProgressBar;
import llm.Sampler;
import llm.TokenColors;
import llm.Tokenizer;
import llm.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Lesson 6, "Transformer architecture overview": tokenizer, stack of blocks and LM head with Phi-3-mini's
 * real numbers; how a next token is chosen from the LM head's scores; the prompt's tokens running in
 * parallel; and the KV cache, computed and measured.
 */
@Command(name = "architecture", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The three parts of a transformer LLM with Phi-3-mini's numbers, decoding strategies, parallel",
                "token tracks and the KV cache. Parts marked (model) use Phi-3-mini when it is in the Hugging Face",
                "cache (./jbang phi3 downloads it) or given with --model; the rest runs without it."})
public class Lesson06_Architecture implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "PROMPT", defaultValue = "The capital of France is",
            description = "The prompt (default: \"${DEFAULT-VALUE}\").")
    String prompt;

    @Option(names = "--model", paramLabel = "PATH|q4|fp16|OWNER/REPO/FILE.gguf",
            description = "A Phi-3 GGUF file, or a Hub file to download. Default: Phi-3-mini from the Hugging Face cache, if it is there.")
    String model;

    @Option(names = "--logits", paramLabel = "TOKEN=SCORE,...", split = ",",
            description = "Your own next-token scores for the decoding part, e.g. Paris=9,Lyon=5,the=4 (instead of the model's).")
    List<String> logits;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "3", description = "k for top-k sampling (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.9", description = "p for top-p (nucleus) sampling, 0 < p <= 1 (default ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Seed of the sampling draws (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--new-tokens", paramLabel = "N", defaultValue = "20", description = "Tokens to generate when timing the KV cache (model; default ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--threads", paramLabel = "N", description = "Threads for the matrix work (default: all cores).")
    Integer threads;

    @Option(names = "--color", paramLabel = "auto|always|never", defaultValue = "auto",
            description = "Colour: auto (default: only on a terminal without NO_COLOR), always, never.")
    TokenColors.Choice color;

    /** An example distribution after "The capital of France is" (made up, shaped like a real one). */
    static final List<String> EXAMPLE_LOGITS = List.of(" Paris=9.1", " the=6.9", " a=6.2", " located=5.8", " known=5.1",
            " Lyon=4.0", " not=3.6", " one=3.1", ":=2.8", " also=2.5");

    final PrintStream out = System.out;
    boolean useColor;

    public static void main(String[] args) {
        System.exit(Cli.run(new Lesson06_Architecture(), args));
    }

    @Override
    public Integer call() {
        if (prompt.isBlank()) throw new IllegalArgumentException("the prompt is empty");
        if (topK < 1) throw new IllegalArgumentException("--top-k must be at least 1, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("--top-p must be in (0, 1], got " + topP);
        if (newTokens < 1 || newTokens > 1000) throw new IllegalArgumentException("--new-tokens must be 1 to 1000, got " + newTokens);
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            FloatTensor.setThreads(threads);
        }
        Distribution typed = logits == null ? null : Distribution.parse(logits);
        useColor = TokenColors.useColor(color);
        TokenColors.installConsole(useColor);

        long started = System.nanoTime();
        Optional<LessonModel> opened = LessonModel.open(model, Hub.fromEnvironment(), new ProgressBar(System.err));
        try (LessonModel lm = opened.orElse(null); Tokenizer tokenizer = Tokenizers.load(Tokenizers.PHI3)) {
            if (lm != null) out.printf("Model: %s (opened in %.2f s)%n", lm.file().getFileName(), seconds(started));
            components(tokenizer, lm);
            decoding(lm, typed);
            parallelTracks(lm);
            kvCache(lm);
        }
        return 0;
    }

    // ---------------------------------------------------------------------------------------------

    void components(Tokenizer tokenizer, LessonModel lm) {
        heading("1. The three components (Phi-3-mini-4k-instruct's numbers)");
        ModelSizes.Architecture phi3 = ModelSizes.PHI3_MINI;
        long[] ids = tokenizer.encode(prompt, false);
        out.printf("1. Tokenizer: text -> token ids. Phi-3's vocabulary has %d tokens (the model's tables have %d rows,%n",
                tokenizer.vocabularyLength(), phi3.vocabSize());
        out.println("   padded to a multiple of 64 for speed). Then each id picks its row of the embedding table.");
        out.printf("   \"%s\" -> %d tokens %s -> ids %s%n", prompt, ids.length,
                new TokenColors(useColor, TokenColors.Mode.BACKGROUND).render(tokenizer.tokens(ids)), Arrays.toString(ids));
        out.printf("2. A stack of %d transformer blocks. Each token's vector of %d numbers goes through every block,%n",
                phi3.layers(), phi3.embedding());
        out.println("   which mixes in what came before (attention) and what the model learned (feed-forward network).");
        out.printf("3. The LM head: %d -> %d, a score (logit) for every token of the vocabulary to come next.%n",
                phi3.embedding(), phi3.vocabSize());
        out.printf("Parameters: embeddings %s + %d blocks x %s + LM head %s = %s (published: %.1fB)%n",
                ModelSizes.count(phi3.embeddingParameters()), phi3.layers(), ModelSizes.count(phi3.blockParameters()),
                ModelSizes.count(phi3.lmHeadParameters()), ModelSizes.count(phi3.parameters()), phi3.publishedBillions());
        if (lm != null) {
            Phi3.Config c = lm.model().config();
            out.printf("The model file used below: %d blocks of %d numbers per token, LM head %d -> %d.%n",
                    c.blockCount(), c.embeddingLength(), c.embeddingLength(), c.vocabSize());
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** Next-token scores with a name for each token. */
    record Distribution(String source, float[] logits, List<String> names, LessonModel lm) {
        /** A token's text: typed in, or decoded when first needed (32064 decodes up front would be slow). */
        String name(int id) {
            if (names.get(id) == null && lm != null) names.set(id, lm.text(id));
            return names.get(id);
        }

        /** The token in quotes, with its id when it comes from the model (two ids can decode alike). */
        String label(int id) {
            return quoted(name(id)) + (lm != null ? " " + id : "");
        }

        static Distribution parse(List<String> entries) {
            List<String> names = new ArrayList<>();
            float[] values = new float[entries.size()];
            for (int i = 0; i < entries.size(); i++) {
                String entry = entries.get(i);
                int eq = entry.lastIndexOf('=');
                if (eq <= 0) throw new IllegalArgumentException("--logits: '" + entry + "' is not TOKEN=SCORE (for example Paris=9.1)");
                try {
                    values[i] = Float.parseFloat(entry.substring(eq + 1).trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--logits: '" + entry.substring(eq + 1) + "' in '" + entry + "' is not a number");
                }
                if (!Float.isFinite(values[i])) throw new IllegalArgumentException("--logits: '" + entry + "' is not a finite number");
                names.add(entry.substring(0, eq));
            }
            return new Distribution("your scores", values, names, null);
        }
    }

    void decoding(LessonModel lm, Distribution typed) {
        heading("2. Decoding: choosing the next token from the scores");
        Distribution d;
        if (typed != null) {
            d = typed;
        } else if (lm != null) {
            long started = System.nanoTime();
            float[] scores = lm.model().forward(lm.model().newState(Math.min(lm.model().config().contextLength(), 512)), promptIds(lm)).clone();
            List<String> names = new ArrayList<>();
            for (int id = 0; id < scores.length; id++) names.add(null);
            d = new Distribution("(model) the model's scores after \"" + prompt + "\" (" + String.format(Locale.ROOT, "%.2f s", seconds(started)) + ")", scores, names, lm);
        } else {
            out.println("(model) Scoring the next token with the real model " + LessonModel.NEEDS + ".");
            out.println("Meanwhile, or with --logits, an example:");
            d = Distribution.parse(EXAMPLE_LOGITS);
            d = new Distribution("an example for \"The capital of France is\" (made up, shaped like a real one)", d.logits(), d.names(), null);
        }
        float[] scores = d.logits();
        int n = scores.length;
        int[] shown = topIds(scores, Math.min(10, n));
        out.println("Scores: " + d.source() + (n > shown.length ? ", the " + shown.length + " highest of " + n : "") + ".");
        out.println("A softmax of score / T turns them into probabilities; the temperature T sharpens (T < 1) or flattens them:");
        float[][] byTemperature = new float[3][];
        float[] temperatures = {0.5f, 1f, 1.5f};
        for (int t = 0; t < 3; t++) {
            byTemperature[t] = new float[n];
            for (int i = 0; i < n; i++) byTemperature[t][i] = scores[i] / temperatures[t];
            Attention.softmax(byTemperature[t]);
        }
        out.printf("  %-22s %8s %9s %9s %9s%n", "token", "score", "T = 0.5", "T = 1", "T = 1.5");
        for (int id : shown) {
            out.printf(Locale.ROOT, "  %-22s %8.2f %9.3f %9.3f %9.3f%n", d.label(id), scores[id],
                    byTemperature[0][id], byTemperature[1][id], byTemperature[2][id]);
        }
        int greedy = Sampler.argmax(scores, 0, n);
        out.printf("Greedy (T = 0): always the top score, %s. Same prompt, same answer, but repetitive in long texts.%n", d.label(greedy));

        int[] ids = new int[n];
        float[] probs = new float[n];
        int kept = Sampler.of(1f, topK, 1f, seed).candidates(scores, 0, n, ids, probs);
        List<String> topKList = new ArrayList<>();
        for (int i = 0; i < kept; i++) topKList.add(d.label(ids[i]) + String.format(Locale.ROOT, " %.3f", probs[i]));
        out.printf("Top-k (k = %d, T = 1): only the %d likeliest stay, renormalised: %s%n", topK, kept, String.join(", ", topKList));

        kept = Sampler.of(1f, 0, topP, seed).candidates(scores, 0, n, ids, probs);
        out.printf("Top-p (p = %s, T = 1): the nucleus, the fewest tokens whose probabilities reach p, renormalised:%n", fmt(topP));
        double cumulative = 0;
        for (int i = 0; i < kept && i < 10; i++) {
            cumulative += byTemperature[1][ids[i]];
            out.printf(Locale.ROOT, "  %-22s %s %.3f  (before: %.3f, running total %.3f)%n", d.label(ids[i]),
                    bar(byTemperature[1][ids[i]], 30), probs[i], byTemperature[1][ids[i]], cumulative);
        }
        if (kept > 10) out.printf("  ... and %d more tokens in the nucleus%n", kept - 10);
        out.printf("  %s the %d other tokens are never drawn%n", "-".repeat(22), n - kept);

        out.printf("Ten draws each (seed %d):%n", seed);
        record Strategy(String name, Sampler sampler) {}
        for (Strategy s : List.of(new Strategy("T = 0.5", Sampler.of(0.5f, 0, 1f, seed)), new Strategy("T = 1", Sampler.of(1f, 0, 1f, seed)),
                new Strategy("T = 1.5", Sampler.of(1.5f, 0, 1f, seed)), new Strategy("top-k " + topK, Sampler.of(1f, topK, 1f, seed)),
                new Strategy("top-p " + fmt(topP), Sampler.of(1f, 0, topP, seed)))) {
            List<String> draws = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                draws.add(quoted(d.name(s.sampler().sample(scores, 0, n))));
            }
            out.printf("  %-10s %s%n", s.name(), String.join(" ", draws));
        }
    }

    // ---------------------------------------------------------------------------------------------

    void parallelTracks(LessonModel lm) {
        heading("3. Parallel token tracks: the prompt goes in all at once");
        if (lm == null) {
            out.println("(model) Running the prompt's tokens side by side " + LessonModel.NEEDS + ".");
            out.println("In short: n prompt tokens enter as n vectors, run through every block together (one track each),");
            out.println("and leave as n vectors; only the last one's scores pick the next token.");
            return;
        }
        Phi3 phi3 = lm.model();
        int[] ids = promptIds(lm);
        Phi3.Config c = phi3.config();
        long started = System.nanoTime();
        float[][] hidden = phi3.hiddenStates(phi3.newState(ids.length), ids);
        double stackSeconds = seconds(started);
        out.printf("(model) %d tokens in -> the stack -> %d vectors out, shape [%d, %d] (%.2f s):%n", ids.length, hidden.length,
                hidden.length, hidden[0].length, stackSeconds);
        for (int t = 0; t < ids.length; t++) {
            out.printf(Locale.ROOT, "  track %2d %-14s -> [%7.3f, %7.3f, %7.3f, ...]%n", t, quoted(lm.text(ids[t])),
                    hidden[t][0], hidden[t][1], hidden[t][2]);
        }
        out.printf("The LM head turns the last vector into %d scores; the other tracks' keys and values fill the KV cache.%n", c.vocabSize());

        // Time to first token: the prompt at once, then the same prompt one token at a time.
        started = System.nanoTime();
        float[] together = phi3.forward(phi3.newState(ids.length), ids).clone();
        double batched = seconds(started);
        Phi3.State state = phi3.newState(ids.length);
        float[] oneByOne = null;
        started = System.nanoTime();
        for (int t = 0; t < ids.length; t++) oneByOne = phi3.forward(state, ids, t, 1);
        double sequential = seconds(started);
        int a = Sampler.argmax(together, 0, together.length), b = Sampler.argmax(oneByOne, 0, oneByOne.length);
        out.printf("Time to first token: all %d tokens at once %.3f s, one at a time %.3f s (next token %s both ways: %s).%n",
                ids.length, batched, sequential, quoted(lm.text(a)), a == b ? "same" : "differs");
        out.println("Together, each weight is read once for all the tracks: prompt processing is fast, generation is not.");
    }

    // ---------------------------------------------------------------------------------------------

    void kvCache(LessonModel lm) {
        heading("4. The KV cache");
        out.println("Every block keeps each token's keys and values, so a new token attends to them without recomputing:");
        out.println("  size = 2 (K and V) x layers x KV heads x head size x tokens x bytes per number");
        for (ModelSizes.Architecture a : List.of(ModelSizes.PHI3_MINI, ModelSizes.LLAMA3_8B)) {
            out.printf("  %-11s 2 x %d x %2d x %3d x 4096 tokens x 2 bytes (fp16) = %s%n", a.name(), a.layers(), a.kvHeads(), a.headSize(),
                    ModelSizes.bytes(a.kvCacheBytes(4096, 2)));
        }
        out.println("Llama-3-8B is twice Phi-3-mini's size, yet its cache is a third: 8 KV heads shared by 32 query heads.");
        if (lm == null) {
            out.println("(model) Measuring the speed-up " + LessonModel.NEEDS + ".");
            return;
        }
        Phi3 phi3 = lm.model();
        int[] ids = promptIds(lm);
        int tokens = Math.min(newTokens, phi3.config().contextLength() - ids.length);
        if (tokens < 1) {
            out.println("(model) The prompt fills the model's context: no room to generate.");
            return;
        }
        // A few untimed tokens both ways first, so that neither timing pays for the JVM's warm-up.
        Generation warmUp = new Generation(phi3).maxNewTokens(Math.min(tokens, 3)).stopIds();
        warmUp.useCache(true).generate(ids);
        warmUp.useCache(false).generate(ids);
        Generation generation = new Generation(phi3).maxNewTokens(tokens).stopIds();
        long started = System.nanoTime();
        Generation.Result cached = generation.useCache(true).generate(ids);
        double with = seconds(started);
        started = System.nanoTime();
        Generation.Result uncached = generation.useCache(false).generate(ids);
        double without = seconds(started);
        out.printf("(model) %d new tokens after the %d-token prompt, greedy:%n", cached.ids().length, ids.length);
        out.printf("  with the cache     %.2f s (each step runs 1 new token)%n", with);
        out.printf("  without the cache  %.2f s (each step runs the whole sequence again)%n", without);
        out.printf("  speed-up %.1fx, same tokens: %s; it grows with the length of the text.%n", without / with,
                Arrays.equals(cached.ids(), uncached.ids()) ? "yes" : "no");
    }

    // ---------------------------------------------------------------------------------------------

    int[] promptIds(LessonModel lm) {
        int[] ids = lm.promptIds(prompt);
        int context = lm.model().config().contextLength();
        if (ids.length >= context)
            throw new IllegalArgumentException("the prompt has " + ids.length + " tokens, more than the model's context of " + context);
        return ids;
    }

    static int[] topIds(float[] scores, int k) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(scores[b], scores[a]));
        int[] top = new int[Math.min(k, order.length)];
        for (int i = 0; i < top.length; i++) top[i] = order[i];
        return top;
    }

    String bar(double p, int width) {
        int n = (int) Math.round(p * width);
        String filled = (useColor ? "█" : "#").repeat(n);
        return filled + " ".repeat(width - n);
    }

    static String quoted(String token) {
        return "\"" + TokenColors.visible(token == null ? "?" : token) + "\"";
    }

    static String fmt(float x) {
        return x == Math.rint(x) ? String.valueOf((long) x) : String.valueOf(x);
    }

    static double seconds(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1e9;
    }

    void heading(String title) {
        out.println();
        out.println(TokenColors.heading(title, useColor));
    }
}
