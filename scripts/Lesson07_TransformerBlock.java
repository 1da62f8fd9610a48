///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION Lesson 7: inside a transformer block on Phi-3: one block step by step with shapes, feed-forward as memory, attention maps, and a logit lens.
//DEPS info.picocli:picocli:4.7.7
//SOURCES ../lib/llm/Cli.java
//SOURCES ../lib/llm/TokenColors.java
//SOURCES ../lib/llm/Tokenizers.java
//SOURCES ../lib/llm/ProgressBar.java
//SOURCES ../lib/llm/LessonModel.java
//SOURCES ../lib/llm/LogitLens.java
//SOURCES ../lib/llm/ModelSizes.java
//SOURCES ../lib/llm/Sampler.java
//SOURCES ../lib/llm/FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector -Xss4m

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import llm.Attention;
import llm.Cli;
import llm.FloatTensor;
import llm.Hub;
import llm.LessonModel;
import llm.LogitLens;
import llm.ModelSizes;
import llm.Phi3;
import llm.Phi3.Step;
import llm.ProgressBar;
import llm.Sampler;
import llm.TokenColors;
import llm.Tokenizer;
import llm.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Lesson 7, "The transformer block": one of Phi-3's blocks taken apart step by step, the feed-forward
 * network as a memory of facts, self-attention as relevance scoring (a heatmap per layer and head),
 * and a logit lens showing after which block the answer appears.
 */
@Command(name = "block", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Inside a transformer block: one Phi-3 block step by step with its shapes, the feed-forward",
                "network as memory, attention heatmaps and a logit lens. Parts marked (model) use Phi-3-mini when it",
                "is in the Hugging Face cache (./jbang phi3 downloads it) or given with --model."})
public class Lesson07_TransformerBlock implements Callable<Integer> {

    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "The capital of France is",
            description = "The prompt for the block walk-through and the logit lens (default: \"${DEFAULT-VALUE}\").")
    String prompt;

    @Option(names = "--memory", paramLabel = "TEXT", defaultValue = "The Shawshank",
            description = "A prompt whose continuation is a memorised fact (default: \"${DEFAULT-VALUE}\").")
    String memory;

    @Option(names = "--sentence", paramLabel = "TEXT", defaultValue = "The dog chased the squirrel because it",
            description = "Whose last token's attention is drawn (default: \"${DEFAULT-VALUE}\").")
    String sentence;

    @Option(names = "--block", paramLabel = "N", defaultValue = "0", description = "Which block to take apart (default ${DEFAULT-VALUE}).")
    int block;

    @Option(names = "--layer", paramLabel = "N", description = "Also draw every head of this layer's attention.")
    Integer layer;

    @Option(names = "--model", paramLabel = "PATH|q4|fp16|OWNER/REPO/FILE.gguf",
            description = "A Phi-3 GGUF file, or a Hub file to download. Default: Phi-3-mini from the Hugging Face cache, if it is there.")
    String model;

    @Option(names = "--threads", paramLabel = "N", description = "Threads for the matrix work (default: all cores).")
    Integer threads;

    @Option(names = "--color", paramLabel = "auto|always|never", defaultValue = "auto",
            description = "Colour: auto (default: only on a terminal without NO_COLOR), always, never.")
    TokenColors.Choice color;

    final PrintStream out = System.out;
    boolean useColor;

    public static void main(String[] args) {
        System.exit(Cli.run(new Lesson07_TransformerBlock(), args));
    }

    @Override
    public Integer call() {
        for (String[] text : new String[][] {{"--prompt", prompt}, {"--memory", memory}, {"--sentence", sentence}})
            if (text[1].isBlank()) throw new IllegalArgumentException(text[0] + " is empty");
        if (block < 0) throw new IllegalArgumentException("--block must be 0 or more, got " + block);
        if (layer != null && layer < 0) throw new IllegalArgumentException("--layer must be 0 or more, got " + layer);
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            FloatTensor.setThreads(threads);
        }
        useColor = TokenColors.useColor(color);
        TokenColors.installConsole(useColor);

        long started = System.nanoTime();
        Optional<LessonModel> opened = LessonModel.open(model, Hub.fromEnvironment(), new ProgressBar(System.err));
        try (LessonModel lm = opened.orElse(null); Tokenizer tokenizer = Tokenizers.load(Tokenizers.PHI3)) {
            if (lm != null) {
                Phi3.Config c = lm.model().config();
                out.printf("Model: %s, %d blocks (opened in %.2f s)%n", lm.file().getFileName(), c.blockCount(), seconds(started));
                if (block >= c.blockCount()) throw new IllegalArgumentException("--block must be below " + c.blockCount() + " (the model's blocks), got " + block);
                if (layer != null && layer >= c.blockCount()) throw new IllegalArgumentException("--layer must be below " + c.blockCount() + ", got " + layer);
            }
            oneBlock(lm, tokenizer);
            memory(lm);
            attention(lm);
            logitLens(lm);
        }
        return 0;
    }

    // ---------------------------------------------------------------------------------------------

    /** What the table shows for one step: its name as in Hugging Face's Phi3DecoderLayer, and how its row splits. */
    record Row(String name, Step step, String shape) {}

    void oneBlock(LessonModel lm, Tokenizer tokenizer) {
        heading("1. One transformer block, step by step");
        int n;
        int dim, heads, kvHeads, headSize, ff, blocks;
        if (lm == null) {
            ModelSizes.Architecture a = ModelSizes.PHI3_MINI;
            n = tokenizer.encode(prompt, false).length + 1; // Phi-3's file asks for a <s> first
            dim = a.embedding(); heads = a.heads(); kvHeads = a.kvHeads(); headSize = a.headSize(); ff = a.feedForward(); blocks = a.layers();
            out.printf("Phi-3-mini's shapes for \"%s\" (%d tokens with <s>), from its config:%n", prompt, n);
        } else {
            Phi3.Config c = lm.model().config();
            n = lm.promptIds(prompt).length;
            dim = c.embeddingLength(); heads = c.headCount(); kvHeads = c.headCountKv(); headSize = c.headSize(); ff = c.feedForwardLength(); blocks = c.blockCount();
        }
        int kvDim = kvHeads * headSize;
        List<Row> rows = List.of(
                new Row("input_layernorm (RMSNorm)", Step.INPUT_LAYERNORM, shape(n, dim)),
                new Row("qkv_proj", Step.QKV_PROJ, shape(n, dim + 2 * kvDim) + " = q" + shape(n, heads, headSize) + " | k" + shape(n, kvHeads, headSize) + " | v" + shape(n, kvHeads, headSize)),
                new Row("RoPE on q and k", Step.ROPE, shape(n, dim + 2 * kvDim)),
                new Row("attention softmax(q·kᵀ/√" + headSize + ")·v", Step.ATTENTION, shape(n, dim) + " (weights " + shape(heads, n, n) + ")"),
                new Row("o_proj", Step.O_PROJ, shape(n, dim)),
                new Row("+ residual (input + o_proj)", Step.ATTENTION_RESIDUAL, shape(n, dim)),
                new Row("post_attention_layernorm (RMSNorm)", Step.POST_ATTENTION_LAYERNORM, shape(n, dim)),
                new Row("gate_up_proj", Step.GATE_UP_PROJ, shape(n, 2 * ff) + " = gate" + shape(n, ff) + " | up" + shape(n, ff)),
                new Row("SiLU(gate) * up", Step.SWIGLU, shape(n, ff)),
                new Row("down_proj", Step.DOWN_PROJ, shape(n, dim)),
                new Row("+ residual = the block's output", null, shape(n, dim)));
        if (lm == null) {
            out.printf("  %-36s %s%n", "input: the residual stream", shape(n, dim));
            for (Row r : rows) out.printf("  %-36s %s%n", r.name(), r.shape());
            out.printf("The output has the input's shape, so %d such blocks can follow one another.%n", blocks);
            out.println("(model) Showing the values at each step " + LessonModel.NEEDS + ".");
            return;
        }

        Phi3 phi3 = lm.model();
        int[] ids = lm.promptIds(prompt);
        int last = ids.length - 1;
        Map<Step, float[]> values = new EnumMap<>(Step.class);
        float[][] blockInput = new float[1][], blockOutput = new float[1][];
        if (block == 0) {
            blockInput[0] = new float[dim];
            phi3.tokenEmbedding().dequantize((long) ids[last] * dim, blockInput[0], 0, dim);
        }
        long started = System.nanoTime();
        phi3.forward(phi3.newState(ids.length).observer(new Phi3.Observer() {
            @Override public boolean wantsSteps() { return true; }
            @Override public void step(int l, Step step, int position, float[] v, int offset, int length) {
                if (l == block && position == last) values.put(step, Arrays.copyOfRange(v, offset, offset + length));
            }
            @Override public void blockOutput(int l, int position, float[] hidden, int offset) {
                if (position != last) return;
                if (l == block - 1) blockInput[0] = Arrays.copyOfRange(hidden, offset, offset + dim);
                if (l == block) blockOutput[0] = Arrays.copyOfRange(hidden, offset, offset + dim);
            }
        }), ids);
        out.printf("(model) Block %d of %d on \"%s\" (%d tokens with <s>; %.2f s). Values of the last token, \"%s\":%n",
                block, blocks, prompt, n, seconds(started), TokenColors.visible(lm.text(ids[last])));
        out.printf("  %-36s %-48s %-30s %s%n", "step", "shape", "first values", "rms");
        printStep("input: the residual stream", shape(n, dim), blockInput[0]);
        for (Row r : rows) printStep(r.name(), r.shape(), r.step() == null ? blockOutput[0] : values.get(r.step()));
        out.printf("The output has the input's shape, so %d such blocks can follow one another.%n", blocks);
    }

    void printStep(String name, String shape, float[] v) {
        double sum = 0;
        for (float x : v) sum += (double) x * x;
        out.printf(Locale.ROOT, "  %-36s %-48s [%7.3f %7.3f %7.3f ...] %7.3f%n", name, shape, v[0], v[1], v[2], Math.sqrt(sum / v.length));
    }

    static String shape(int... dims) {
        return Arrays.toString(dims).replace(" ", "");
    }

    // ---------------------------------------------------------------------------------------------

    void memory(LessonModel lm) {
        heading("2. The feed-forward network as memory");
        out.println("Attention moves information between tokens; the feed-forward networks hold most of what the model");
        out.println("learned (Geva et al. 2021: their rows act like keys and values of a memory). Facts come back as");
        out.println("the most likely next tokens:");
        if (lm == null) {
            out.println("(model) Asking the model what follows \"" + memory + "\" " + LessonModel.NEEDS + ".");
            return;
        }
        Phi3 phi3 = lm.model();
        int[] ids = lm.promptIds(memory);
        long started = System.nanoTime();
        float[] logits = phi3.forward(phi3.newState(ids.length), ids).clone();
        double took = seconds(started);
        float[] probs = Attention.softmax(logits.clone());
        out.printf("(model) After \"%s\" (%.2f s):%n", memory, took);
        for (int id : topIds(logits, 5)) out.printf(Locale.ROOT, "  %-20s %.3f  %s%n", quoted(lm.text(id)) + " " + id, probs[id], bar(probs[id], 40));
        out.println("(In the course, Phi-3-mini answers \"Redemption\": the film's title is stored in its weights.)");
    }

    // ---------------------------------------------------------------------------------------------

    void attention(LessonModel lm) {
        heading("3. Self-attention as relevance scoring");
        if (lm == null) {
            out.println("(model) Drawing which tokens the last token of \"" + sentence + "\" attends to " + LessonModel.NEEDS + ".");
            return;
        }
        Phi3 phi3 = lm.model();
        Phi3.Config c = phi3.config();
        int[] ids = lm.promptIds(sentence);
        int last = ids.length - 1;
        float[][][] weights = new float[c.blockCount()][c.headCount()][]; // [layer][head][key]
        long started = System.nanoTime();
        phi3.forward(phi3.newState(ids.length).observer(new Phi3.Observer() {
            @Override public boolean wantsAttention() { return true; }
            @Override public void attention(int l, int head, int position, float[] probs, int offset, int length) {
                if (position == last) weights[l][head] = Arrays.copyOfRange(probs, offset, offset + length);
            }
        }), ids);
        List<String> tokens = new ArrayList<>();
        for (int id : ids) tokens.add(TokenColors.visible(lm.text(id)));
        out.printf("(model) How much the last token, \"%s\", attends to each token, in each layer (average of the %d heads; %.2f s).%n",
                tokens.get(last), c.headCount(), seconds(started));
        out.println("Each row sums to 1. The first token, <s>, often takes much of it: a resting place when nothing fits.");
        int[] widths = tokens.stream().mapToInt(t -> Math.max(4, Math.min(9, t.length()))).toArray();
        out.println(header("layer", tokens, widths) + "   strongest besides <s>");
        for (int l = 0; l < c.blockCount(); l++) {
            float[] mean = new float[ids.length];
            for (float[] head : weights[l]) for (int j = 0; j < mean.length; j++) mean[j] += head[j] / c.headCount();
            out.println(heatRow(String.valueOf(l), mean, widths) + "   " + strongest(mean, tokens));
        }
        if (layer != null) {
            out.printf("%nLayer %d, head by head: heads specialise (the previous token, the sentence's subject, <s>...):%n", layer);
            out.println(header("head", tokens, widths) + "   strongest besides <s>");
            for (int h = 0; h < c.headCount(); h++) out.println(heatRow(String.valueOf(h), weights[layer][h], widths) + "   " + strongest(weights[layer][h], tokens));
        } else {
            out.println("(--layer N draws every head of layer N.)");
        }
    }

    String header(String first, List<String> tokens, int[] widths) {
        StringBuilder line = new StringBuilder(String.format("  %5s ", first));
        for (int j = 0; j < tokens.size(); j++) {
            String t = tokens.get(j);
            if (t.length() > widths[j]) t = t.substring(0, widths[j] - 1) + "…";
            line.append(' ').append(String.format("%" + widths[j] + "s", t));
        }
        return line.toString();
    }

    /** One row of the heatmap: each weight as a percentage, on a background that deepens with it. */
    String heatRow(String label, float[] row, int[] widths) {
        StringBuilder line = new StringBuilder(String.format("  %5s ", label));
        for (int j = 0; j < row.length; j++) {
            String cell = String.format("%" + widths[j] + "s", Math.round(row[j] * 100));
            if (useColor) {
                double w = Math.sqrt(Math.min(1, Math.max(0, row[j]))); // √: small weights stay visible
                int r = (int) Math.round(255 - w * (255 - 252)), g = (int) Math.round(255 - w * (255 - 90)), b = (int) Math.round(255 - w * (255 - 40));
                cell = "\u001b[30;48;2;" + r + ";" + g + ";" + b + "m" + cell + "\u001b[0m";
            }
            line.append(' ').append(cell);
        }
        return line.toString();
    }

    static String strongest(float[] row, List<String> tokens) {
        int best = 1;
        for (int j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
        return row.length < 2 ? "" : quoted(tokens.get(best)) + String.format(Locale.ROOT, " %.2f", row[best]);
    }

    // ---------------------------------------------------------------------------------------------

    void logitLens(LessonModel lm) {
        heading("4. A logit lens: the top token after every block");
        out.println("The model's final norm and LM head read the residual stream after each block, as if the model");
        out.println("stopped there (nostalgebraist 2020). You see at which block the answer comes out on top.");
        if (lm == null) {
            out.println("(model) Reading the model after every block " + LessonModel.NEEDS + ".");
            return;
        }
        Phi3 phi3 = lm.model();
        int[] ids = lm.promptIds(prompt);
        long started = System.nanoTime();
        float[][] lens = LogitLens.lastPosition(phi3, ids);
        double took = seconds(started);
        float[] finalLogits = lens[lens.length - 1];
        int answer = Sampler.argmax(finalLogits, 0, finalLogits.length);
        out.printf("(model) \"%s\" -> the model's answer %s (%.2f s). After each block:%n", prompt, quoted(lm.text(answer)), took);
        out.printf("  %5s  %-24s %6s   %s%n", "block", "top token", "p", "p and rank of " + quoted(lm.text(answer)));
        int firstTop = -1;
        for (int l = 0; l < lens.length; l++) {
            float[] p = Attention.softmax(lens[l].clone());
            int top = Sampler.argmax(p, 0, p.length);
            int rank = 1;
            for (float x : p) if (x > p[answer]) rank++;
            if (top == answer && firstTop < 0) firstTop = l;
            if (top != answer) firstTop = -1;
            out.printf(Locale.ROOT, "  %5d  %-24s %6.3f   %.3f (rank %d)%s%n", l, quoted(lm.text(top)) + " " + top, p[top], p[answer], rank,
                    top == answer ? "  <-" : "");
        }
        out.printf("The answer is on top from block %d on; the last block's lens is the model's output.%n", firstTop);
    }

    // ---------------------------------------------------------------------------------------------

    static int[] topIds(float[] scores, int k) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(scores[b], scores[a]));
        int[] top = new int[Math.min(k, order.length)];
        for (int i = 0; i < top.length; i++) top[i] = order[i];
        return top;
    }

    String bar(double p, int width) {
        return (useColor ? "█" : "#").repeat((int) Math.round(p * width));
    }

    static String quoted(String token) {
        return "\"" + TokenColors.visible(token) + "\"";
    }

    static double seconds(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1e9;
    }

    void heading(String title) {
        out.println();
        out.println(TokenColors.heading(title, useColor));
    }
}
