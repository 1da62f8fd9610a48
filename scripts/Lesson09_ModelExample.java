///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION Lesson 9 assignment: Phi-3-mini generating text in pure Java, and a look inside it.
//DEPS info.picocli:picocli:4.7.7
//DEPS com.google.code.gson:gson:2.13.1
//SOURCES ../lib/llm/Cli.java
//SOURCES ../lib/llm/TokenColors.java
//SOURCES ../lib/llm/Tokenizers.java
//SOURCES ../lib/llm/LessonModel.java
//SOURCES ../lib/llm/ProgressBar.java
//SOURCES ../lib/llm/Phi3.java
//SOURCES ../lib/llm/Generation.java
//SOURCES ../lib/llm/Sampler.java
//SOURCES ../lib/llm/ChatTemplate.java
//SOURCES ../lib/llm/TextStreamer.java
//SOURCES ../lib/llm/FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector -Xss4m

import com.google.gson.GsonBuilder;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import llm.ChatTemplate;
import llm.Cli;
import llm.FloatTensor;
import llm.Generation;
import llm.Gguf;
import llm.Hub;
import llm.LessonModel;
import llm.Phi3;
import llm.ProgressBar;
import llm.Sampler;
import llm.TextStreamer;
import llm.TokenColors;
import llm.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;

/**
 * The course's Phi-3 notebook, in Java on the CPU: generate text like the notebook's pipeline,
 * print the model's architecture, follow one prompt through the stack to the LM head, and time
 * generation with and without the KV cache.
 */
@Command(name = "phi3", mixinStandardHelpOptions = true, sortOptions = false,
        subcommands = {Lesson09_ModelExample.Generate.class, Lesson09_ModelExample.Chat.class, Lesson09_ModelExample.Inspect.class},
        description = {"Runs Phi-3-mini-4k-instruct in pure Java. With no command: the course notebook, section by section.",
                "The model (2.2 GB) is downloaded once into the Hugging Face cache, or use --model PATH."})
public class Lesson09_ModelExample implements Callable<Integer> {

    static final String NOTEBOOK_PROMPT = "Write an email apologizing to Sarah for the tragic gardening mishap. Explain how it happened. ";
    static final String CAPITAL_PROMPT = "The capital of France is";

    /** Options every command shares. */
    static class ModelOptions {
        @Option(names = "--model", paramLabel = "PATH|q4|fp16|OWNER/REPO/FILE.gguf", scope = ScopeType.INHERIT,
                description = "The GGUF model: a file, or a Hub file (default q4 = microsoft/Phi-3-mini-4k-instruct-gguf's 4-bit file).")
        String model = "q4";

        @Option(names = "--threads", paramLabel = "N", scope = ScopeType.INHERIT,
                description = "Threads for the matrix work (default: all cores).")
        Integer threads;

        @Option(names = "--color", paramLabel = "auto|always|never", defaultValue = "auto", scope = ScopeType.INHERIT,
                description = "Colour: auto (default), always, never.")
        TokenColors.Choice color;

        /** Opens the model (downloading it first if needed) and the shipped Phi-3 tokenizer. */
        Session open() {
            if (threads != null) {
                if (threads <= 0) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
                FloatTensor.setThreads(threads);
            }
            long started = System.nanoTime();
            LessonModel model = LessonModel.open(this.model, Hub.fromEnvironment(), new ProgressBar(System.err)).orElseThrow();
            return new Session(model, (System.nanoTime() - started) / 1e9, TokenColors.useColor(color));
        }
    }

    /** The open model with its tokenizer, how long it took to open, and whether to colour. */
    record Session(LessonModel lesson, double loadSeconds, boolean color) implements AutoCloseable {
        Phi3 model() { return lesson.model(); }
        Tokenizer tokenizer() { return lesson.tokenizer(); }
        /** Token ids of a prompt, with the <s> the model file asks for (as llama.cpp adds it). */
        int[] promptIds(String text) { return lesson.promptIds(text); }
        String text(int id) { return lesson.text(id); }
        @Override public void close() { lesson.close(); }
    }

    @Mixin ModelOptions options;

    final PrintStream out = System.out;

    public static void main(String[] args) {
        System.exit(Cli.run(new Lesson09_ModelExample(), args));
    }

    /** No command: the notebook, section by section. */
    @Override
    public Integer call() {
        try (Session session = options.open()) {
            heading("1. Generate text, like the notebook's pipeline (greedy, 50 new tokens)");
            out.println("Prompt: " + NOTEBOOK_PROMPT);
            out.println();
            generateStreaming(session, session.promptIds(NOTEBOOK_PROMPT), Sampler.greedy(), 50);

            heading("2. The model's architecture (as PyTorch prints Phi3ForCausalLM)");
            printArchitecture(session.model());

            heading("3. One forward pass, from ids to the next token");
            oneForwardPass(session);

            heading("4. The KV cache: 100 new tokens with and without it");
            kvCacheTiming(session, 100);
        }
        return 0;
    }

    void heading(String title) {
        out.println();
        out.println(TokenColors.heading(title, TokenColors.useColor(options.color)));
    }

    /** Generates and prints the text as it comes; returns the result for timings. */
    Generation.Result generateStreaming(Session session, int[] prompt, Sampler sampler, int maxTokens) {
        TextStreamer streamer = new TextStreamer(ids -> session.tokenizer().decode(ids), piece -> {
            out.print(piece);
            out.flush();
        });
        Generation.Result result = new Generation(session.model()).sampler(sampler).maxNewTokens(maxTokens)
                .listener((step, id, top) -> streamer.accept(id)).generate(prompt);
        streamer.flush();
        out.println();
        out.printf("(%d prompt tokens, %d new tokens; first token after %.2f s, then %.1f tokens/s)%n",
                prompt.length, result.ids().length, result.prefillNanos() / 1e9, result.decodeTokensPerSecond());
        return result;
    }

    // ---------------------------------------------------------------------------------------------
    // 2. Architecture

    static void printArchitecture(Phi3 model, PrintStream out) {
        Phi3.Config c = model.config();
        int d = c.embeddingLength(), ff = c.feedForwardLength(), qkv = d + 2 * c.kvDim();
        out.printf("""
                Phi3ForCausalLM(
                  (model): Phi3Model(
                    (embed_tokens): Embedding(%d, %d, padding_idx=32000)
                    (embed_dropout): Dropout(p=0.0, inplace=False)
                    (layers): ModuleList(
                      (0-%d): %d x Phi3DecoderLayer(
                        (self_attn): Phi3Attention(
                          (o_proj): Linear(in_features=%d, out_features=%d, bias=False)
                          (qkv_proj): Linear(in_features=%d, out_features=%d, bias=False)
                          (rotary_emb): Phi3RotaryEmbedding()
                        )
                        (mlp): Phi3MLP(
                          (gate_up_proj): Linear(in_features=%d, out_features=%d, bias=False)
                          (down_proj): Linear(in_features=%d, out_features=%d, bias=False)
                          (activation_fn): SiLU()
                        )
                        (input_layernorm): Phi3RMSNorm()
                        (resid_attn_dropout): Dropout(p=0.0, inplace=False)
                        (resid_mlp_dropout): Dropout(p=0.0, inplace=False)
                        (post_attention_layernorm): Phi3RMSNorm()
                      )
                    )
                    (norm): Phi3RMSNorm()
                  )
                  (lm_head): Linear(in_features=%d, out_features=%d, bias=False)
                )
                """, c.vocabSize(), d, c.blockCount() - 1, c.blockCount(), d, d, d, qkv, d, 2 * ff, ff, d, d, c.vocabSize());
        out.printf("%d heads of size %d (%d key/value heads), context %d tokens, RoPE base %.0f, RMSNorm eps %.0e%n",
                c.headCount(), c.headSize(), c.headCountKv(), c.contextLength(), c.ropeFreqBase(), c.rmsNormEps());

        // The weights as the file stores them: GGUF name, type(s) over the blocks, shape and size.
        out.println();
        out.println("Weights in " + model.gguf().path().getFileName() + " (GGUF name: type, shape, size):");
        Map<String, Map<String, Integer>> typesByRole = new LinkedHashMap<>();
        Map<String, long[]> shapeByRole = new LinkedHashMap<>();
        Map<String, Long> bytesByRole = new LinkedHashMap<>();
        for (Gguf.TensorInfo t : model.gguf().tensors().values()) {
            String role = t.name().replaceFirst("^blk\\.\\d+\\.", "blk.*.");
            typesByRole.computeIfAbsent(role, k -> new TreeMap<>()).merge(t.type().name(), 1, Integer::sum);
            shapeByRole.putIfAbsent(role, t.shape());
            bytesByRole.merge(role, t.byteSize(), Long::sum);
        }
        long total = 0;
        for (String role : typesByRole.keySet()) {
            List<String> types = new ArrayList<>();
            typesByRole.get(role).forEach((type, count) -> types.add(role.startsWith("blk.*") ? type + " x" + count : type));
            out.printf("  %-26s %-22s %-16s %10s%n", role, String.join(", ", types), Arrays.toString(shapeByRole.get(role)),
                    size(bytesByRole.get(role)));
            total += bytesByRole.get(role);
        }
        out.printf("  %-66s %10s%n", "total", size(total));
    }

    static String size(long bytes) {
        return bytes >= 1e9 ? String.format("%.2f GB", bytes / 1e9) : String.format("%.1f MB", bytes / 1e6);
    }

    void printArchitecture(Phi3 model) {
        printArchitecture(model, out);
    }

    // ---------------------------------------------------------------------------------------------
    // 3. One forward pass

    void oneForwardPass(Session session) {
        Phi3 model = session.model();
        int[] ids = Arrays.stream(session.tokenizer().encode(CAPITAL_PROMPT, true)).mapToInt(Math::toIntExact).toArray();
        out.println("Prompt: \"" + CAPITAL_PROMPT + "\" -> ids " + Arrays.toString(ids));

        // model.model(input_ids): the hidden states the LM head reads, one vector per token.
        float[][] hidden = model.hiddenStates(model.newState(ids.length), ids);
        out.printf("Output of the transformer stack (model.model): shape [1, %d, %d]%n", hidden.length, hidden[0].length);

        // lm_head: one score (logit) per vocabulary token, at every position.
        float[][] logits = model.forwardAll(model.newState(ids.length), ids);
        out.printf("Output of the LM head (lm_head): shape [1, %d, %d]%n", logits.length, logits[0].length);

        float[] last = logits[logits.length - 1];
        int best = Sampler.argmax(last, 0, last.length);
        out.printf("Most likely next token: id %d = \"%s\" (the notebook, with the real weights: 3681 = \"Paris\")%n", best, session.text(best));

        out.println();
        out.println("The 10 most likely next tokens:");
        float[] probabilities = last.clone();
        llm.Attention.softmax(probabilities);
        Integer[] order = new Integer[last.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(last[b], last[a]));
        for (int rank = 0; rank < 10 && rank < order.length; rank++) {
            int id = order[rank];
            out.printf("  %2d. %6d %-16s logit %8.3f   p = %.4f%n", rank + 1, id, "\"" + TokenColors.visible(session.text(id)) + "\"",
                    last[id], probabilities[id]);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // 4. KV cache

    void kvCacheTiming(Session session, int tokens) {
        int[] prompt = session.promptIds(NOTEBOOK_PROMPT);
        Generation generation = new Generation(session.model()).maxNewTokens(tokens).stopIds();
        out.printf("With the cache: each new token attends to the cached keys and values of the earlier ones.%n");
        long started = System.nanoTime();
        Generation.Result cached = generation.useCache(true).generate(prompt);
        double withCache = (System.nanoTime() - started) / 1e9;
        out.printf("  %d tokens in %.2f s%n", cached.ids().length, withCache);
        out.printf("Without it (use_cache=False): every step runs the whole sequence again (Ctrl-C to skip).%n");
        started = System.nanoTime();
        Generation.Result uncached = generation.useCache(false).generate(prompt);
        double withoutCache = (System.nanoTime() - started) / 1e9;
        out.printf("  %d tokens in %.2f s%n", uncached.ids().length, withoutCache);
        out.printf("Speed-up from the KV cache: %.1fx (same tokens: %s)%n", withoutCache / withCache,
                Arrays.equals(cached.ids(), uncached.ids()) ? "yes" : "no");
    }

    // ---------------------------------------------------------------------------------------------
    // Commands

    @Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Generates a continuation of PROMPT (or answers it, with --chat).")
    static class Generate implements Callable<Integer> {
        @picocli.CommandLine.ParentCommand Lesson09_ModelExample parent;

        @Parameters(paramLabel = "PROMPT", description = "The prompt, or - to read it from stdin.")
        String prompt;

        @Option(names = "--chat", description = "Wrap the prompt in Phi-3's chat template (<|user|> ... <|end|> <|assistant|>).")
        boolean chat;

        @Option(names = "--system", paramLabel = "TEXT", description = "A system message (implies --chat).")
        String system;

        @Option(names = "--temperature", paramLabel = "T", defaultValue = "0", description = "0 = greedy (default); higher = more random.")
        float temperature;

        @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Sample only from the K most likely tokens (0 = all).")
        int topK;

        @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Sample only from the most likely tokens whose probabilities add up to P (0 < P <= 1).")
        float topP;

        @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Random seed for sampling (default 42).")
        long seed;

        @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "256", description = "The most new tokens (default 256).")
        int maxTokens;

        @Option(names = "--json", description = "Print one JSON object (prompt_ids, ids, text, timings) instead of streaming text.")
        boolean json;

        @Option(names = "--top", paramLabel = "K", defaultValue = "0",
                description = "After each new token, show its probability and the K most likely tokens (* = the strategy could pick it).")
        int top;

        @Option(names = "--show-probs", description = "Colour each new token by its probability (in brackets when colour is off).")
        boolean showProbs;

        @Option(names = "--top-logits", paramLabel = "K", defaultValue = "0",
                description = "With --json: add top_logits, the K highest [id, logit] pairs of every step.")
        int topLogits;

        @Override
        public Integer call() throws Exception {
            Sampler sampler = sampler(temperature, topK, topP, seed);
            if (maxTokens <= 0) throw new IllegalArgumentException("--max-tokens must be at least 1, got " + maxTokens);
            String text = "-".equals(prompt) ? Cli.readStdin() : prompt;
            if (text.isBlank()) throw new IllegalArgumentException("the prompt is empty");
            if (chat || system != null) text = ChatTemplate.phi3(system, text);
            if (top < 0 || topLogits < 0) throw new IllegalArgumentException("--top and --top-logits must be 0 or more");
            try (Session session = parent.options.open()) {
                int[] promptIds = session.promptIds(text);
                if (!json && top > 0) {
                    new NextTokenTable(session, System.out).generate(promptIds, sampler, maxTokens, top);
                    return 0;
                }
                if (!json && showProbs) {
                    new ProbabilityColours(session, System.out).generate(promptIds, sampler, maxTokens);
                    return 0;
                }
                if (!json) {
                    parent.generateStreaming(session, promptIds, sampler, maxTokens);
                    return 0;
                }
                List<List<Object[]>> steps = new ArrayList<>();
                Generation.Result result = new Generation(session.model()).sampler(sampler).maxNewTokens(maxTokens)
                        .topLogits(topLogits)
                        .listener(topLogits == 0 ? null : (step, id, best) -> steps.add(best.stream()
                                .map(t -> new Object[] {t.id(), t.logit()}).toList()))
                        .generate(promptIds);
                Map<String, Object> object = new LinkedHashMap<>();
                object.put("prompt_ids", promptIds);
                object.put("ids", result.ids());
                object.put("text", session.tokenizer().decode(Arrays.stream(result.ids()).asLongStream().toArray()));
                object.put("stop_reason", result.stopReason().name().toLowerCase());
                object.put("load_seconds", session.loadSeconds());
                object.put("prefill_seconds", result.prefillNanos() / 1e9);
                object.put("decode_seconds", result.decodeNanos() / 1e9);
                object.put("decode_tokens_per_second", result.decodeTokensPerSecond());
                if (topLogits > 0) object.put("top_logits", steps);
                System.out.println(new GsonBuilder().disableHtmlEscaping().create().toJson(object));
                return 0;
            }
        }
    }

    /**
     * Generation shown one step per line: the chosen token with its probability, then the K most likely
     * tokens of that step's distribution; a * marks those the decoding strategy could pick.
     */
    record NextTokenTable(Session session, PrintStream out) {
        void generate(int[] prompt, Sampler sampler, int maxTokens, int k) {
            out.printf("%4s  %-18s %6s   %s%n", "step", "token", "p", "the " + k + " most likely (* = the strategy could pick it)");
            List<Integer> chosen = new ArrayList<>();
            new Generation(session.model()).sampler(sampler).maxNewTokens(maxTokens).topLogits(k)
                    .listener((step, id, best) -> {
                        chosen.add(id);
                        float p = best.stream().filter(t -> t.id() == id).map(Generation.TopToken::probability).findFirst().orElse(Float.NaN);
                        StringBuilder line = new StringBuilder(String.format("%4d  %-18s %6s  ", step, quoted(id), Float.isNaN(p) ? "<" + String.format("%.3f", best.getLast().probability()) : String.format("%.3f", p)));
                        for (Generation.TopToken t : best) line.append(String.format(" %s%s %.3f", t.allowed() ? "*" : " ", quoted(t.id()), t.probability()));
                        out.println(line);
                    })
                    .generate(prompt);
            out.println();
            out.println(session.tokenizer().decode(chosen.stream().mapToLong(Integer::longValue).toArray()));
        }

        private String quoted(int id) {
            return "\"" + TokenColors.visible(session.text(id)).replace("\"", "\\\"") + "\"";
        }
    }

    /** Streams the text with each token coloured by its probability: uncertain places stand out. */
    record ProbabilityColours(Session session, PrintStream out) {
        /** Five steps from red (unlikely) to green (almost certain), as 24-bit background colours. */
        static final String[] SCALE = {"215;48;39", "252;141;89", "254;224;139", "145;207;96", "26;152;80"};
        static final String[] LABELS = {"p < 0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", "p >= 0.8"};

        void generate(int[] prompt, Sampler sampler, int maxTokens) {
            TokenColors colors = new TokenColors(session.color(), TokenColors.Mode.BACKGROUND);
            StringBuilder legend = new StringBuilder("Probability of each token: ");
            for (int i = 0; i < SCALE.length; i++) legend.append(colors.paint(" " + LABELS[i] + " ", SCALE[i])).append(' ');
            if (session.color()) out.println(legend);
            else out.println("Probability of each token in [brackets] after it.");
            float[] probability = new float[1];
            TextStreamer streamer = new TextStreamer(ids -> session.tokenizer().decode(ids), piece -> {
                float p = probability[0];
                String colour = SCALE[Math.min(SCALE.length - 1, (int) (p * SCALE.length))];
                out.print(session.color() ? colors.paint(piece, colour) : piece + String.format("[%.2f]", p));
                out.flush();
            });
            // A sampled token is nearly always among the 50 most likely; one that is not has p below theirs.
            new Generation(session.model()).sampler(sampler).maxNewTokens(maxTokens).topLogits(50)
                    .listener((step, id, best) -> {
                        probability[0] = best.stream().filter(t -> t.id() == id).map(Generation.TopToken::probability).findFirst().orElse(0f);
                        streamer.accept(id);
                    })
                    .generate(prompt);
            streamer.flush();
            out.println();
        }
    }

    /** Checks the sampling options and builds the sampler they describe. */
    static Sampler sampler(float temperature, int topK, float topP, long seed) {
        if (!(temperature >= 0)) throw new IllegalArgumentException("--temperature must be 0 or more, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("--top-k must be 0 or more, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("--top-p must be in (0, 1], got " + topP);
        return temperature == 0 ? Sampler.greedy() : Sampler.of(temperature, topK, topP, seed);
    }

    @Command(name = "chat", mixinStandardHelpOptions = true,
            description = "Chat with Phi-3 in the terminal (an empty line or Ctrl-D ends).")
    static class Chat implements Callable<Integer> {
        @picocli.CommandLine.ParentCommand Lesson09_ModelExample parent;

        @Option(names = "--system", paramLabel = "TEXT", description = "A system message.")
        String system;

        @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "512", description = "The most new tokens per answer (default 512).")
        int maxTokens;

        @Override
        public Integer call() throws Exception {
            if (maxTokens <= 0) throw new IllegalArgumentException("--max-tokens must be at least 1, got " + maxTokens);
            try (Session session = parent.options.open()) {
                Phi3.State state = session.model().newState();
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                boolean first = true;
                while (true) {
                    System.out.print("> ");
                    System.out.flush();
                    String line = in.readLine();
                    if (line == null || line.isBlank()) return 0;
                    // The whole conversation stays in the KV cache: each turn adds only its own tokens.
                    String turn = first && system != null ? ChatTemplate.phi3(system, line) : ChatTemplate.phi3(null, line);
                    int[] ids = first ? session.promptIds(turn) : Arrays.stream(session.tokenizer().encode(turn, true)).mapToInt(Math::toIntExact).toArray();
                    first = false;
                    TextStreamer streamer = new TextStreamer(t -> session.tokenizer().decode(t), piece -> {
                        System.out.print(piece);
                        System.out.flush();
                    });
                    Generation.Result result = new Generation(session.model()).maxNewTokens(maxTokens)
                            .listener((step, id, top) -> streamer.accept(id)).generate(state, ids);
                    streamer.flush();
                    System.out.println();
                    // Keep the answer's end in the conversation, as the chat template writes it.
                    if (result.stopId() >= 0) session.model().forward(state, result.stopId());
                }
            }
        }
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = "Only the look inside: the architecture and one forward pass (sections 2 and 3).")
    static class Inspect implements Callable<Integer> {
        @picocli.CommandLine.ParentCommand Lesson09_ModelExample parent;

        @Override
        public Integer call() {
            try (Session session = parent.options.open()) {
                parent.heading("The model's architecture (as PyTorch prints Phi3ForCausalLM)");
                parent.printArchitecture(session.model());
                parent.heading("One forward pass, from ids to the next token");
                parent.oneForwardPass(session);
            }
            return 0;
        }
    }
}
