///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION Lesson 11: a Mixture-of-Experts layer: router, top-1/top-2 experts, every token of your sentence routed and coloured, load balance, Mixtral's sparse vs active parameters.
//DEPS info.picocli:picocli:4.7.7
//SOURCES ../lib/llm/Cli.java
//SOURCES ../lib/llm/TokenColors.java
//SOURCES ../lib/llm/Tokenizers.java
//SOURCES ../lib/llm/MixtureOfExperts.java
//SOURCES ../lib/llm/ModelSizes.java

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import llm.Cli;
import llm.MixtureOfExperts;
import llm.MixtureOfExperts.Routing;
import llm.ModelSizes;
import llm.ModelSizes.Architecture;
import llm.TokenColors;
import llm.Tokenizer;
import llm.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Lesson 11, "Mixture of Experts": a small MoE layer with 8 experts like Mixtral's, every token of a
 * sentence routed through it, the load on each expert, and what sparsity buys in Mixtral-8x7B.
 */
@Command(name = "moe", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"A Mixture-of-Experts layer: a router picks the top experts for each token of TEXT,",
                "their outputs are mixed; the load per expert; Mixtral-8x7B's total vs active parameters."})
public class Lesson11_MixtureOfExperts implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "TEXT", defaultValue = "The quick brown fox jumps over the lazy dog, and the dog sleeps.",
            description = "The sentence to route (default: \"${DEFAULT-VALUE}\").")
    String text;

    @Option(names = "--experts", paramLabel = "N", defaultValue = "8", description = "Number of experts (2 to 16, default ${DEFAULT-VALUE} as in Mixtral).")
    int expertCount;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "2", description = "Experts per token (1 = Switch Transformer, 2 = Mixtral; default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "11", description = "Seed of the layer's random weights and token vectors (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--color", paramLabel = "auto|always|never", defaultValue = "auto",
            description = "Colour: auto (default: only on a terminal without NO_COLOR), always, never.")
    TokenColors.Choice color;

    static final int DIM = 16, HIDDEN = 32;
    /** The course palette (ColorBrewer Set2) and Set2's last two colours, then greys: one per expert. */
    static final List<String> EXPERT_COLORS = List.of("102;194;165", "252;141;98", "141;160;203", "231;138;195", "166;216;84",
            "255;217;47", "229;196;148", "179;179;179", "120;120;120", "200;200;200", "90;160;140", "230;120;80",
            "120;140;190", "210;120;170", "140;190;70", "230;190;40");

    final PrintStream out = System.out;
    TokenColors colors;

    public static void main(String[] args) {
        System.exit(Cli.run(new Lesson11_MixtureOfExperts(), args));
    }

    @Override
    public Integer call() {
        if (text.isBlank()) throw new IllegalArgumentException("the text is empty: give a sentence to route");
        if (expertCount < 2 || expertCount > 16) throw new IllegalArgumentException("--experts must be 2 to 16, got " + expertCount);
        if (topK < 1 || topK > expertCount) throw new IllegalArgumentException("--top-k must be 1 to " + expertCount + " (the experts), got " + topK);
        boolean useColor = TokenColors.useColor(color);
        TokenColors.installConsole(useColor);
        colors = new TokenColors(useColor, TokenColors.Mode.BACKGROUND);

        List<String> tokens;
        long[] ids;
        try (Tokenizer tokenizer = Tokenizers.load(Tokenizers.PHI3)) {
            ids = tokenizer.encode(text, false);
            tokens = tokenizer.tokens(ids);
        }
        if (ids.length == 0) throw new IllegalArgumentException("the text has no tokens");
        MixtureOfExperts moe = MixtureOfExperts.random(DIM, HIDDEN, expertCount, topK, seed);
        List<float[]> vectors = new ArrayList<>();
        for (long id : ids) vectors.add(tokenVector(id));

        oneToken(moe, tokens, vectors);
        everyToken(moe, tokens, vectors);
        load(moe, vectors);
        mixtral();
        prosAndCons();
        return 0;
    }

    /** A made-up vector per token id (an untrained embedding table): the same token always gets the same one. */
    float[] tokenVector(long id) {
        Random random = new Random(seed * 1_000_003L + id);
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) v[i] = (float) random.nextGaussian();
        return v;
    }

    // ---------------------------------------------------------------------------------------------

    void oneToken(MixtureOfExperts moe, List<String> tokens, List<float[]> vectors) {
        heading("1. One token through the layer");
        int t = 0;
        float[] x = vectors.get(t);
        out.printf("The layer replaces a block's feed-forward network by %d experts (each a SwiGLU network, %d -> %d -> %d)%n",
                expertCount, DIM, HIDDEN, DIM);
        out.printf("and a router: a linear layer (%d x %d) that gives each expert a score, and a softmax.%n", expertCount, DIM);
        out.printf("Token \"%s\" (its vector starts %s):%n", TokenColors.visible(tokens.get(t)), format(x, 4));
        float[] logits = moe.routerLogits(x);
        Routing routing = moe.route(x);
        out.printf("  %8s %14s %14s%n", "expert", "router score", "probability");
        for (int e = 0; e < expertCount; e++) {
            int rank = indexOf(routing.experts(), e);
            out.printf(Locale.ROOT, "  %8s %14.3f %14.3f  %s%s%n", expertName(e), logits[e], routing.probabilities()[e],
                    bar(routing.probabilities()[e], 30, e), rank >= 0 ? "  <- top-" + (rank + 1) : "");
        }
        if (topK > 1) out.printf("Top-1 (Switch Transformer) would send it to expert %d alone.%n", moe.withTopK(1).route(x).top());
        String plural = topK > 1 ? "s" : "";
        out.printf("Top-%d%s: expert%s %s with weight%s %s (the probabilities of the chosen, renormalised to sum to 1):%n",
                topK, topK == 2 ? " (as in Mixtral)" : "", plural,
                joinExperts(routing.experts()), plural, formatWeights(routing.weights()));
        for (int k = 0; k < topK; k++) {
            int e = routing.experts()[k];
            out.printf("  expert %d output %s  x %.3f%n", e, format(moe.runExpert(e, x), 4), routing.weights()[k]);
        }
        out.printf("  = layer output %s%n", format(moe.forward(x, routing), 4));
        out.printf("The other %d experts do no work for this token.%n", expertCount - topK);
    }

    void everyToken(MixtureOfExperts moe, List<String> tokens, List<float[]> vectors) {
        heading("2. Every token of the sentence, coloured by its top expert");
        StringBuilder line = new StringBuilder();
        StringBuilder legend = new StringBuilder("  experts:");
        for (int e = 0; e < expertCount; e++) legend.append(' ').append(colors.paint(" " + e + " ", EXPERT_COLORS.get(e)));
        for (int t = 0; t < tokens.size(); t++) {
            Routing r = moe.route(vectors.get(t));
            String token = TokenColors.visible(tokens.get(t));
            if (colors.color()) line.append(colors.paint(token, EXPERT_COLORS.get(r.top()))).append(' ');
            else line.append(token).append('[').append(joinExperts(r.experts())).append("] ");
        }
        out.println("  " + line.toString().stripTrailing());
        if (colors.color()) out.println(legend);
        else out.println("  (each token with its experts in brackets, the top one first)");
        out.println("The router here is untrained (random weights), so which expert a token gets is arbitrary; but the");
        out.println("same token always goes to the same experts, because routing depends only on the token's vector.");
        out.println("In a trained model experts specialise loosely: Mixtral's paper finds them following syntax (for");
        out.println("example indentation in code) more than topics.");
    }

    void load(MixtureOfExperts moe, List<float[]> vectors) {
        heading("3. Load per expert, and the balancing statistic");
        for (int k : topK == 1 ? new int[] {1} : new int[] {1, topK}) {
            MixtureOfExperts layer = moe.withTopK(k);
            List<Routing> routings = vectors.stream().map(layer::route).toList();
            MixtureOfExperts.Load load = MixtureOfExperts.load(routings, expertCount);
            int total = vectors.size() * k;
            out.printf("Top-%d: %d tokens x %d = %d assignments, %.1f per expert if even:%n", k, vectors.size(), k, total, total / (double) expertCount);
            for (int e = 0; e < expertCount; e++) {
                out.printf(Locale.ROOT, "  %8s %3d  %s%n", expertName(e), load.assignments()[e],
                        bar(load.assignments()[e] / (double) total, 40, e));
            }
            out.printf(Locale.ROOT, "  balance = experts x Σ (share of tokens x mean probability) = %.2f   (1 = even, %d = one expert takes all)%n",
                    load.balance(), expertCount);
        }
        out.println("Training adds a small multiple of this statistic to the loss, so the router learns to spread the");
        out.println("tokens: an overloaded expert is slow (and drops tokens past its capacity), an idle one learns nothing.");
    }

    // ---------------------------------------------------------------------------------------------

    void mixtral() {
        heading("4. Sparse vs active parameters: Mixtral-8x7B");
        Architecture m = ModelSizes.MIXTRAL_8X7B;
        out.printf("""
                  config: %d blocks, d = %d, %d heads (%d KV heads), feed-forward %d, vocabulary %d, %d experts, %d per token
                  embeddings + LM head   %9s   (2 x %d x %d)
                  attention, per block   %9s   (shared by all experts)
                  one expert, per block  %9s   (3 x %d x %d)
                  router, per block      %9s   (%d x %d)
                """, m.layers(), m.embedding(), m.heads(), m.kvHeads(), m.feedForward(), m.vocabSize(), m.experts(), m.expertsPerToken(),
                ModelSizes.count(m.embeddingParameters() + m.lmHeadParameters()), m.vocabSize(), m.embedding(),
                ModelSizes.count(m.attentionParameters()), ModelSizes.count(m.expertParameters()), m.embedding(), m.feedForward(),
                ModelSizes.count(m.routerParameters()), m.embedding(), m.experts());
        out.printf("  %-48s %9s   published: %.1fB%n", "total (every expert stored)", ModelSizes.count(m.parameters()), m.publishedBillions());
        out.printf("  %-48s %9s   published: %.1fB%n", "active per token (" + m.expertsPerToken() + " experts run)",
                ModelSizes.count(m.activeParameters()), m.publishedActiveBillions());
        out.println("Not 8 x 7B = 56B: only the feed-forward networks are copied; attention, norms and embeddings are");
        out.println("shared. Each token costs about as much compute as a 13B dense model, but all 47B must sit in memory.");
    }

    void prosAndCons() {
        heading("5. Pros and cons");
        out.print("""
                + more parameters (knowledge) for the same compute per token: faster training and inference
                  than a dense model of the same size
                + experts can specialise
                - every expert must be in memory (VRAM), although each token uses only a few
                - training is less stable; the load must be balanced (auxiliary loss, capacity limits)
                - fine-tuning tends to overfit; experts are harder to shard and to serve in small batches
                """.indent(2));
    }

    // ---------------------------------------------------------------------------------------------

    String expertName(int e) {
        return colors.paint("expert " + e, EXPERT_COLORS.get(e));
    }

    String bar(double share, int width, int expert) {
        int n = (int) Math.round(share * width);
        return colors.color() ? colors.paint(" ".repeat(n), EXPERT_COLORS.get(expert)) : "#".repeat(n);
    }

    static int indexOf(int[] array, int value) {
        for (int i = 0; i < array.length; i++) if (array[i] == value) return i;
        return -1;
    }

    static String joinExperts(int[] experts) {
        List<String> parts = new ArrayList<>();
        for (int e : experts) parts.add(String.valueOf(e));
        return String.join(",", parts);
    }

    static String formatWeights(float[] weights) {
        List<String> parts = new ArrayList<>();
        for (float w : weights) parts.add(String.format(Locale.ROOT, "%.3f", w));
        return String.join(", ", parts);
    }

    static String format(float[] v, int count) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < Math.min(count, v.length); i++) parts.add(String.format(Locale.ROOT, "%.2f", v[i]));
        return "[" + String.join(", ", parts) + (v.length > count ? ", ...]" : "]");
    }

    void heading(String title) {
        out.println();
        out.println(TokenColors.heading(title, colors.color()));
    }
}
