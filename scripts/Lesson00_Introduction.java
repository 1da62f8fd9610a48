///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION Lesson 0: the course map (every lesson and the command that runs it) and the whole pipeline on one sentence.
//DEPS info.picocli:picocli:4.7.7
//SOURCES ../lib/llm/Cli.java
//SOURCES ../lib/llm/TokenColors.java
//SOURCES ../lib/llm/Tokenizers.java
//SOURCES ../lib/llm/ModelSizes.java

import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import llm.Cli;
import llm.ModelSizes;
import llm.TokenColors;
import llm.Tokenizer;
import llm.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Lesson 0 of "How Transformer LLMs Work": where the course goes, and the road a sentence takes
 * through a transformer LLM, drawn with Phi-3-mini's real tokenizer and real shapes.
 */
@Command(name = "intro", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The course map, then the whole pipeline at a glance on one sentence:",
                "text -> tokens -> ids -> embeddings -> 32 transformer blocks -> LM head -> next token (Phi-3-mini's shapes).",
                "With no TEXT: \"" + Lesson00_Introduction.DEFAULT_TEXT + "\"."})
public class Lesson00_Introduction implements Callable<Integer> {

    static final String DEFAULT_TEXT = "The capital of France is";

    /** The course's twelve lessons and the alias that runs each. */
    record Lesson(int number, String title, String shows, String alias) {}

    static final List<Lesson> COURSE = List.of(
            new Lesson(0, "Introduction", "this map, and the pipeline on one sentence", "intro"),
            new Lesson(1, "Language as a bag-of-words", "count vectors, cosine similarity, a document search", "bag-of-words"),
            new Lesson(2, "(Word) embeddings", "word2vec trained here on Shakespeare: neighbours, analogies", "embeddings"),
            new Lesson(3, "Encoding and decoding context with attention", "RNN context vector, attention heatmap, two \"bank\"s", "attention"),
            new Lesson(4, "Transformers", "encoder vs decoder masks, BERT's [MASK], GPT's next token, sizes", "transformers"),
            new Lesson(5, "Tokenizers", "assignment: eight trained tokenizers on the same text", "tokenizers"),
            new Lesson(6, "Architectural overview", "tokenizer, blocks, LM head; decoding strategies; KV cache", "architecture"),
            new Lesson(7, "The transformer block", "attention and feed-forward step by step; a logit lens", "block"),
            new Lesson(8, "Self-attention", "Q, K, V with small numbers; multi-head, multi-query, grouped-query", "self-attention"),
            new Lesson(9, "Model example", "assignment: Phi-3-mini generating text in pure Java", "phi3"),
            new Lesson(10, "Recent improvements", "RoPE, RMSNorm, SwiGLU, packing documents", "rope"),
            new Lesson(11, "Mixture of experts", "a router, experts, sparse vs active parameters", "moe"));

    @Parameters(arity = "0..1", paramLabel = "TEXT", description = "A sentence of your own, or - to read it from stdin.")
    String text;

    @Option(names = "--color", paramLabel = "auto|always|never", defaultValue = "auto",
            description = "Colour: auto (default: only on a terminal, and not when NO_COLOR is set), always, never.")
    TokenColors.Choice color;

    private final PrintStream out = System.out;
    private TokenColors colors;

    public static void main(String[] args) {
        System.exit(Cli.run(new Lesson00_Introduction(), args));
    }

    @Override
    public Integer call() throws IOException {
        String input = text == null ? DEFAULT_TEXT : "-".equals(text) ? readStdin() : text;
        if (input.isBlank()) throw new IllegalArgumentException("the text is empty: give a sentence, or - to read it from stdin");
        boolean color = TokenColors.useColor(this.color);
        TokenColors.installConsole(color);
        colors = new TokenColors(color, TokenColors.Mode.BACKGROUND);

        out.println("Lesson 0 · How Transformer LLMs Work: the course in this playground");

        heading("1. The course map: every lesson, and the command that runs it");
        for (Lesson lesson : COURSE) {
            out.printf(Locale.ROOT, "  %2d  %-46s ./jbang %s%n", lesson.number(), lesson.title(), lesson.alias());
            out.printf(Locale.ROOT, "      %s%n", lesson.shows());
        }
        explain("Each script takes --help, your own text in place of its example, and --color=never for plain output.");
        explain("Next to each script, notes/LessonNN.md tells the idea in words.");

        ModelSizes.Architecture phi3 = ModelSizes.PHI3_MINI;
        try (Tokenizer tokenizer = Tokenizers.load(Tokenizers.PHI3)) {
            long[] ids = tokenizer.encode(input, false);
            if (ids.length == 0) throw new IllegalArgumentException("the text gives no tokens: give a sentence");
            List<String> tokens = tokenizer.tokens(ids);
            int n = ids.length;

            heading("2. The pipeline at a glance, on one sentence (Phi-3-mini)");
            out.println("  text      " + input);

            step("tokenizer", "cuts the text into tokens it knows (lesson 5)");
            out.println("            " + colors.render(tokens));

            step("token ids", "each token is its number in a vocabulary of " + fmt(tokenizer.vocabularyLength()) + " (the model's table has "
                    + fmt(phi3.vocabSize()) + " rows, a few spare)");
            out.println("            " + Arrays.toString(ids) + "   shape [1, " + n + "]");

            step("embeddings", "each id picks one row of a " + fmt(phi3.vocabSize()) + " x " + fmt(phi3.embedding()) + " table (lesson 2)");
            out.println("            " + n + " vectors of " + fmt(phi3.embedding()) + " numbers   shape [1, " + n + ", " + phi3.embedding() + "]");

            step(phi3.layers() + " blocks", "each mixes the vectors with attention (lessons 3, 8), then a feed-forward network (lesson 7)");
            out.println("            the shape stays [1, " + n + ", " + phi3.embedding() + "] through all " + phi3.layers()
                    + " blocks; what the vectors hold changes: each now knows its context");

            step("LM head", "turns each vector into one score per vocabulary entry (lesson 6)");
            out.println("            shape [1, " + n + ", " + phi3.vocabSize() + "]; the last position's " + fmt(phi3.vocabSize())
                    + " scores are for the token after \"" + TokenColors.visible(tokens.getLast()).strip() + "\"");

            step("decoding", "softmax makes them probabilities; pick one (greedy, or sample: lesson 6)");
            out.println("            the picked token is appended and everything runs again for the next one (lesson 3's loop)");

            heading("3. How big is that?");
            out.printf(Locale.ROOT, "  Phi-3-mini: %s parameters: embeddings %s, each block %s (attention %s + feed-forward %s), LM head %s.%n",
                    ModelSizes.count(phi3.parameters()), ModelSizes.count(phi3.embeddingParameters()),
                    ModelSizes.count(phi3.blockParameters()), ModelSizes.count(phi3.attentionParameters()),
                    ModelSizes.count(phi3.expertParameters()), ModelSizes.count(phi3.lmHeadParameters()));
            explain("To see the real next token for your sentence: ./jbang phi3 (downloads the 2.2 GB model once).");
        }
        return 0;
    }

    private void step(String name, String what) {
        out.println("    |");
        out.println("    v  " + (colors.color() ? "\u001b[1m" + name + "\u001b[0m" : name) + ": " + what);
    }

    private static String fmt(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    private void heading(String title) {
        out.println();
        out.println(TokenColors.heading(title, colors.color()));
    }

    private void explain(String line) {
        out.println("  " + line);
    }

    private static String readStdin() {
        return Cli.readStdin().strip();
    }
}
