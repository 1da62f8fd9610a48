///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION Lesson 4: transformers: encoder vs decoder masks, BERT's masked-language model, GPT's next token, model sizes.
//DEPS info.picocli:picocli:4.7.7
//SOURCES ../lib/llm/Cli.java
//SOURCES ../lib/llm/TokenColors.java
//SOURCES ../lib/llm/Tokenizers.java
//SOURCES ../lib/llm/Attention.java
//SOURCES ../lib/llm/Heatmap.java
//SOURCES ../lib/llm/MaskedLanguageModeling.java
//SOURCES ../lib/llm/GptSizes.java
//SOURCES ../lib/llm/ModelSizes.java
//SOURCES ../lib/llm/Corpus.java

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import llm.Attention;
import llm.Cli;
import llm.Corpus;
import llm.GptSizes;
import llm.Heatmap;
import llm.MaskedLanguageModeling;
import llm.MaskedLanguageModeling.Action;
import llm.ModelSizes;
import llm.TokenColors;
import llm.Tokenizer;
import llm.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Lesson 4 of "How Transformer LLMs Work": the transformer's two halves. An encoder (BERT) lets
 * every token see every other and learns by filling in masked words; a decoder (GPT) lets a token
 * see only what came before and learns by predicting the next token.
 */
@Command(name = "transformers", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Encoder vs decoder: attention masks, BERT's [CLS]/[SEP] and masked-language model, GPT's next-token",
                "objective, parameter counts of GPT-1/2/3 from their shapes, and context length.",
                "With no TEXT: \"" + Lesson04_Transformers.DEFAULT_TEXT + "\"."})
public class Lesson04_Transformers implements Callable<Integer> {

    static final String DEFAULT_TEXT = "The cat sat on the mat because it was warm";

    @Parameters(arity = "0..1", paramLabel = "TEXT", description = "A sentence of your own, or - to read it from stdin.")
    String text;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the masking draws (default: ${DEFAULT-VALUE}).", defaultValue = "3")
    long seed;

    @Option(names = "--color", paramLabel = "auto|always|never", defaultValue = "auto",
            description = "Colour: auto (default: only on a terminal, and not when NO_COLOR is set), always, never.")
    TokenColors.Choice color;

    private final PrintStream out = System.out;
    private TokenColors colors;

    public static void main(String[] args) {
        System.exit(Cli.run(new Lesson04_Transformers(), args));
    }

    @Override
    public Integer call() throws IOException {
        String input = text == null ? DEFAULT_TEXT : "-".equals(text) ? readStdin() : text;
        if (input.isBlank()) throw new IllegalArgumentException("the text is empty: give a sentence, or - to read it from stdin");
        boolean color = TokenColors.useColor(this.color);
        TokenColors.installConsole(color);
        colors = new TokenColors(color, TokenColors.Mode.BACKGROUND);

        out.println("Lesson 4 · Transformers: encoders (BERT) and decoders (GPT)");
        out.println("Text: " + input);

        // The two tokenizers load side by side (each takes a moment).
        var loadingBert = java.util.concurrent.CompletableFuture.supplyAsync(() -> Tokenizers.load("bert-base-uncased"));
        try (Tokenizer gpt2 = Tokenizers.load("gpt2"); Tokenizer bert = join(loadingBert)) {
            long[] gptIds = gpt2.encode(input, false);
            List<String> gptTokens = gpt2.tokens(gptIds);
            List<String> labels = gptTokens.stream().map(String::strip).map(t -> t.isEmpty() ? "␣" : t).toList();
            masks(labels);
            bert(bert, input);
            nextToken(gpt2, gptIds, gptTokens);
            sizes();
            context(gptIds.length);
        }
        return 0;
    }

    /** 1-2: who may look at whom. */
    private void masks(List<String> labels) {
        int n = labels.size();
        boolean[][] everyone = new boolean[n][n], past = new boolean[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                everyone[i][j] = true;
                past[i][j] = Attention.causal(i, j);
            }
        }
        heading("1. Encoder attention (BERT): every token sees every token");
        explain("Row = the token that looks, column = the token it may look at (x). Used to understand a whole text.");
        out.print(indent(Heatmap.mask(labels, everyone, colors.color())));

        heading("2. Decoder attention (GPT): a token sees only itself and what came before");
        explain("The causal mask. It lets a decoder train on every position at once without peeking at the answer, and generate one token at a time.");
        out.print(indent(Heatmap.mask(labels, past, colors.color())));
        int row = Math.min(2, n - 1);
        float[][] mask = Attention.causalMask(n);
        float[] scores = new float[n];
        SplittableRandom random = new SplittableRandom(7);
        for (int j = 0; j < n; j++) scores[j] = Math.round((float) random.nextGaussian() * 100) / 100f;
        float[] masked = new float[n];
        for (int j = 0; j < n; j++) masked[j] = scores[j] + mask[row][j];
        float[] weights = Attention.softmax(masked.clone());
        explain("How: add 0 where a token may look and -∞ where it may not, before the softmax. For \"" + labels.get(row) + "\" (row " + (row + 1) + "):");
        out.println("    scores        " + numbers(scores));
        out.println("    + mask        " + numbers(mask[row]));
        out.println("    softmax       " + numbers(weights) + "   (the future gets weight 0)");
    }

    /** 3-4: [CLS] ... [SEP], and the masked-language-model recipe. */
    private void bert(Tokenizer bert, String input) {
        heading("3. BERT's input: [CLS] first, [SEP] last (bert-base-uncased, its real tokenizer)");
        long[] ids = bert.encode(input, true);
        List<String> tokens = bert.tokens(ids);
        out.println("  tokens: " + colors.render(tokens));
        out.println("  ids:    " + Arrays.toString(ids));
        explain("[CLS]'s output vector stands for the whole text (classification); [SEP] ends a text, or separates two of them.");

        heading("4. BERT's training task: the masked language model (15 %; of those 80 % [MASK], 10 % random, 10 % kept)");
        long maskId = bert.encode("[MASK]", false)[0];
        int added = ids.length - bert.encode(input, false).length;
        boolean[] special = new boolean[ids.length];
        if (added >= 1) special[0] = true;
        if (added >= 2) special[ids.length - 1] = true;
        MaskedLanguageModeling.Example example = MaskedLanguageModeling.mask(ids, special, maskId, bert.vocabularyLength(), new SplittableRandom(seed));
        List<String> shownInput = bert.tokens(example.inputIds());
        List<String> shownLabels = new ArrayList<>();
        List<String> what = new ArrayList<>();
        for (int i = 0; i < ids.length; i++) {
            shownLabels.add(example.labels()[i] == MaskedLanguageModeling.IGNORE ? "·" : tokens.get(i));
            what.add(switch (example.actions()[i]) {
                case KEPT_UNPICKED -> "";
                case MASKED -> "masked";
                case RANDOM -> "random";
                case UNCHANGED -> "kept";
            });
        }
        out.println("  seed " + seed + ":");
        printColumns(List.of("original", "input", "label", "picked"), List.of(tokens, shownInput, shownLabels, what));
        explain("The model sees \"input\" and must predict \"label\" where there is one (elsewhere the label is "
                + MaskedLanguageModeling.IGNORE + ": no loss). Try --seed 1, 2, ...");
        long picked = Arrays.stream(example.actions()).filter(a -> a != Action.KEPT_UNPICKED).count();
        if (picked == 0) explain("This seed picked no token: with 15 % per token a short sentence often gets none.");

        // The recipe over many tokens: the shares come out as designed.
        String sample = Corpus.tinyShakespeare().text().substring(0, 60_000);
        long[] many = bert.encode(sample, false);
        MaskedLanguageModeling.Example big = MaskedLanguageModeling.mask(many, new boolean[many.length], maskId,
                bert.vocabularyLength(), new SplittableRandom(seed));
        int[] counts = new int[Action.values().length];
        for (Action a : big.actions()) counts[a.ordinal()]++;
        int chosen = many.length - counts[Action.KEPT_UNPICKED.ordinal()];
        out.printf(Locale.ROOT, "  Over %,d tokens of tiny Shakespeare: %,d picked (%.1f %%): %.1f %% [MASK], %.1f %% random, %.1f %% kept.%n",
                many.length, chosen, 100.0 * chosen / many.length,
                100.0 * counts[Action.MASKED.ordinal()] / chosen, 100.0 * counts[Action.RANDOM.ordinal()] / chosen,
                100.0 * counts[Action.UNCHANGED.ordinal()] / chosen);
    }

    /** 5: GPT's objective. */
    private void nextToken(Tokenizer gpt2, long[] ids, List<String> tokens) {
        heading("5. GPT's training task: predict the next token (gpt2 tokenizer)");
        explain("One text of " + ids.length + " tokens gives " + Math.max(0, ids.length - 1)
                + " examples at once: each position predicts the one after it, seeing only the past (the mask of section 2).");
        for (int i = 0; i + 1 < ids.length && i < 12; i++) {
            String context = gpt2.decode(Arrays.copyOfRange(ids, 0, i + 1));
            out.println("  " + TokenColors.visible(context) + "  ->  " + colors.render(List.of(tokens.get(i + 1))));
        }
        if (ids.length > 13) out.println("  …");
        if (ids.length < 2) explain("(a text of one token has nothing to predict: give a longer one)");
    }

    /** 6: parameters from the shapes. */
    private void sizes() {
        heading("6. How big? Parameters from the published shapes");
        explain("Per block: attention 4d²+4d (Q, K, V, output, with biases) + feed-forward 8d²+5d (d→4d→d) + two LayerNorms 4d = 12d² + 13d.");
        explain("Whole model: vocab·d (token embeddings, shared with the LM head) + context·d (positions) + layers·(12d² + 13d) + 2d (final LayerNorm).");
        out.println();
        out.println("  model          layers      d   vocab  context   formula      published");
        for (GptSizes.Shape s : List.of(GptSizes.GPT1, GptSizes.GPT2_SMALL, GptSizes.GPT2_XL, GptSizes.GPT3)) {
            long p = s.parameters();
            out.printf(Locale.ROOT, "  %-12s %7d %6d %7d %8d   %-10s   %-8s (%+.1f %%)%n", s.name(), s.layers(), s.embedding(), s.vocabSize(),
                    s.context(), ModelSizes.count(p), ModelSizes.count((long) s.published()), 100.0 * (p - s.published()) / s.published());
        }
        explain("GPT-2 small: the paper's table says 117M, the released model has 124M, as the formula says.");
        ModelSizes.Architecture phi3 = ModelSizes.PHI3_MINI;
        out.printf(Locale.ROOT, "  %s (a newer design: no biases, RMSNorm, SwiGLU, untied LM head; lesson 6): %s, published %.1fB%n",
                phi3.name(), ModelSizes.count(phi3.parameters()), phi3.publishedBillions());
        out.printf(Locale.ROOT, "  Almost all of it is the blocks' matrices: GPT-3's 96 blocks hold %.1f %% of its parameters.%n",
                100.0 * GptSizes.GPT3.layers() * GptSizes.GPT3.block() / GptSizes.GPT3.parameters());
    }

    /** 7: context length. */
    private void context(int tokens) {
        heading("7. Context length: how many tokens a model can see at once");
        out.println("  GPT-1 512   GPT-2 1,024   GPT-3 2,048   Phi-3-mini-4k 4,096   (your text: " + tokens + " GPT-2 tokens)");
        explain(String.format(Locale.ROOT, "Attention scores every pair of tokens: %,d pairs at 512 tokens, %,d at 4,096, per head and per layer.",
                512L * 512, 4096L * 4096));
    }

    private void printColumns(List<String> rowNames, List<List<String>> rows) {
        int n = rows.getFirst().size();
        int[] width = new int[n];
        for (List<String> row : rows) for (int i = 0; i < n; i++) width[i] = Math.max(width[i], TokenColors.visible(row.get(i)).length());
        for (int r = 0; r < rows.size(); r++) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "    %-9s", rowNames.get(r)));
            for (int i = 0; i < n; i++) {
                String cell = TokenColors.visible(rows.get(r).get(i));
                line.append(' ').append(cell).append(" ".repeat(width[i] - cell.length()));
            }
            out.println(line.toString().stripTrailing());
        }
    }

    private static String numbers(float[] values) {
        StringBuilder s = new StringBuilder();
        for (float v : values) {
            String cell = v == Float.NEGATIVE_INFINITY ? "-∞" : String.format(Locale.ROOT, "%.2f", v);
            s.append(" ".repeat(Math.max(1, 7 - cell.length()))).append(cell);
        }
        return s.toString();
    }

    private static <T> T join(java.util.concurrent.CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw e;
        }
    }

    private void heading(String title) {
        out.println();
        out.println(TokenColors.heading(title, colors.color()));
    }

    private void explain(String line) {
        out.println("  " + line);
    }

    private static String indent(String block) {
        StringBuilder out = new StringBuilder();
        for (String line : block.split("\n")) out.append("    ").append(line).append('\n');
        return out.toString();
    }

    private static String readStdin() {
        return Cli.readStdin().strip();
    }
}
