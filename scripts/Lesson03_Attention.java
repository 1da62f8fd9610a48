///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION Lesson 3: encoding and decoding context with attention: static vs contextual "bank", an RNN's context vector, an attention heatmap.
//DEPS info.picocli:picocli:4.7.7
//SOURCES ../lib/llm/Cli.java
//SOURCES ../lib/llm/TokenColors.java
//SOURCES ../lib/llm/Corpus.java
//SOURCES ../lib/llm/Vectors.java
//SOURCES ../lib/llm/Word2Vec.java
//SOURCES ../lib/llm/WordVectors.java
//SOURCES ../lib/llm/TrainingProgress.java
//SOURCES ../lib/llm/ElmanRnn.java
//SOURCES ../lib/llm/Attention.java
//SOURCES ../lib/llm/Heatmap.java
//SOURCES ../lib/llm/Sampler.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import llm.Attention;
import llm.Cli;
import llm.Corpus;
import llm.ElmanRnn;
import llm.Heatmap;
import llm.Sampler;
import llm.TokenColors;
import llm.TrainingProgress;
import llm.Vectors;
import llm.Word2Vec;
import llm.WordVectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Lesson 3 of "How Transformer LLMs Work": context. A static embedding gives "bank" one vector
 * wherever it stands; an RNN squeezes a whole sentence into one vector; attention lets every word
 * look at all the others and come out with a vector of its own context.
 */
@Command(name = "attention", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Encoding and decoding context: static embeddings (lesson 2's word2vec), an RNN's context vector, attention as",
                "a heatmap, contextual vectors for the same word in two sentences, and the autoregressive loop.",
                "With no SENTENCE: \"" + Lesson03_Attention.RIVER + "\" and \"" + Lesson03_Attention.MONEY + "\"."})
public class Lesson03_Attention implements Callable<Integer> {

    static final String RIVER = "I sat upon the green bank beside the water";
    static final String MONEY = "the bank will lend me gold";

    @Parameters(arity = "0..*", paramLabel = "SENTENCE",
            description = "Sentences of your own (each argument one sentence; a word they share gets compared), or - for one per line from stdin.")
    List<String> sentences;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the RNN's random weights and of the decoding draws (default: ${DEFAULT-VALUE}).",
            defaultValue = "1")
    long seed;

    @Option(names = "--temperature", paramLabel = "T", description = "Attention scores are cosines divided by T: smaller is sharper (default: ${DEFAULT-VALUE}).",
            defaultValue = "0.5")
    float temperature;

    @Option(names = "--color", paramLabel = "auto|always|never", defaultValue = "auto",
            description = "Colour: auto (default: only on a terminal, and not when NO_COLOR is set), always, never.")
    TokenColors.Choice color;

    private final PrintStream out = System.out;
    private TokenColors colors;

    public static void main(String[] args) {
        System.exit(Cli.run(new Lesson03_Attention(), args));
    }

    @Override
    public Integer call() throws IOException {
        List<String> texts = sentences == null || sentences.isEmpty() ? List.of(RIVER, MONEY)
                : sentences.equals(List.of("-")) ? readStdinLines() : sentences;
        if (texts.isEmpty()) throw new IllegalArgumentException("no sentences: give one or more, or - to read them from stdin");
        boolean color = TokenColors.useColor(this.color);
        TokenColors.installConsole(color);
        colors = new TokenColors(color, TokenColors.Mode.BACKGROUND);

        out.println("Lesson 3 · Encoding and decoding context with attention");
        List<String> corpusWords = Corpus.tinyShakespeare().words();
        WordVectors vectors = lessonTwoVectors(corpusWords);

        // Each sentence as the words word2vec knows.
        List<List<String>> sentenceWords = new ArrayList<>();
        for (String text : texts) {
            List<String> words = Corpus.words(text);
            List<String> unknown = words.stream().filter(w -> !vectors.contains(w)).toList();
            List<String> known = words.stream().filter(vectors::contains).toList();
            if (!unknown.isEmpty()) out.println("  (left out of \"" + text + "\", not in lesson 2's vocabulary: " + String.join(", ", unknown) + ")");
            if (known.isEmpty()) throw new IllegalArgumentException("\"" + text + "\" has no word that lesson 2's vocabulary knows");
            sentenceWords.add(known);
        }
        String shared = sharedWord(sentenceWords, vectors);

        heading("1. Static embeddings: one vector per word, wherever it stands");
        if (shared != null) {
            float[] v = vectors.vector(shared);
            for (int s = 0; s < texts.size(); s++) {
                if (sentenceWords.get(s).contains(shared))
                    out.println("  \"" + shared + "\" in \"" + texts.get(s) + "\":  " + firstNumbers(v, 6));
            }
            out.printf(Locale.ROOT, "  cosine between them: %.3f. Lesson 2's vectors cannot tell a river bank from a money bank.%n", 1.0);
        } else {
            explain("(no word appears in two of your sentences; with one that does, this section compares its vectors)");
        }

        heading("2. An RNN encoder: the whole sentence squeezed into one context vector");
        rnn(vectors, sentenceWords.getFirst(), texts.getFirst(), corpusWords);

        heading("3. Attention: every word weighs every other word (scores, softmax, weighted sum)");
        explain("A trained model makes queries, keys and values with learned matrices (lesson 8). Here each word's query and key is");
        explain(String.format(Locale.ROOT, "its own lesson-2 vector at length 1, so a score is the cosine of two words / %.2f (a temperature that sharpens", temperature));
        explain("the softmax); each row of weights sums to 1, and a word's new vector is the weighted sum of the words' (length-1) vectors.");
        List<float[][]> contextual = new ArrayList<>(), attentionWeights = new ArrayList<>();
        for (int s = 0; s < texts.size(); s++) {
            List<String> words = sentenceWords.get(s);
            float[][] weights = new float[words.size()][words.size()];
            contextual.add(attend(vectors, words, weights));
            attentionWeights.add(weights);
            out.println();
            out.println("  \"" + texts.get(s) + "\"   (row: the word that looks; columns: what it looks at)");
            out.print(indent(Heatmap.render(words, words, weights, colors.color())));
        }

        heading("4. Contextual embeddings: the same word, two vectors");
        if (shared == null) {
            explain("(give two sentences that share a word, e.g. the default ones: \"bank\")");
        } else {
            compareShared(shared, sentenceWords, contextual, attentionWeights);
        }

        heading("5. Decoding: one word at a time, each output fed back in");
        decode(corpusWords, sentenceWords.getLast());
        return 0;
    }

    /** Lesson 2's word2vec vectors: from the cache, or trained now (about 10 s) with a progress bar. */
    private WordVectors lessonTwoVectors(List<String> words) throws IOException {
        Word2Vec.Params params = Word2Vec.Params.defaults();
        Path cache = Word2Vec.defaultCacheDirectory();
        boolean cached = Files.isRegularFile(Word2Vec.cacheFile(words, params, cache));
        if (!cached) out.println("  Training lesson 2's word2vec on tiny Shakespeare first (once; then it is cached in " + cache + ")");
        TrainingProgress progress = new TrainingProgress(System.err, cached ? 0 : 1);
        WordVectors vectors;
        try {
            vectors = Word2Vec.trainOrLoad(words, params, cache, cached ? Word2Vec.Listener.NONE : progress.part());
        } catch (IOException e) {
            vectors = Word2Vec.train(words, params, progress.part());
        }
        progress.finish();
        out.printf(Locale.ROOT, "  Word vectors: lesson 2's word2vec on tiny Shakespeare, %,d words x %d numbers%n", vectors.size(), vectors.dimensions());
        return vectors;
    }

    private void rnn(WordVectors vectors, List<String> words, String text, List<String> corpusWords) {
        int hidden = 16;
        ElmanRnn rnn = ElmanRnn.random(vectors.dimensions(), hidden, 0.8, seed);
        explain("h = tanh(Wx·word + Wh·h), word by word, from h = 0; the last h is all the decoder gets. (Random weights, seed " + seed + ",");
        explain("" + hidden + " numbers: untrained, but the same arithmetic.)");
        float[] h = new float[hidden];
        for (String w : words) h = rnn.step(h, Vectors.normalized(vectors.vector(w)));
        out.println("  context vector of \"" + text + "\":");
        out.println("    " + firstNumbers(h, hidden));

        // What is lost: change the last word, then the first, then the first of a long input.
        String replacement = "thou";
        List<String> lastChanged = new ArrayList<>(words), firstChanged = new ArrayList<>(words);
        lastChanged.set(words.size() - 1, words.getLast().equals(replacement) ? "he" : replacement);
        firstChanged.set(0, words.getFirst().equals(replacement) ? "he" : replacement);
        float[] a = encode(rnn, vectors, words);
        List<String> more = corpusWords.subList(0, 60).stream().filter(vectors::contains).toList();
        List<String> longWords = new ArrayList<>(words), longChanged = new ArrayList<>(firstChanged);
        longWords.addAll(more);
        longChanged.addAll(more);
        out.printf(Locale.ROOT, "  How far the context vector moves (its length: %.2f) when one word changes:%n", Vectors.norm(a));
        out.printf(Locale.ROOT, "    the last word (\"%s\" -> \"%s\")                     %.4f%n", words.getLast(), lastChanged.getLast(),
                distance(a, encode(rnn, vectors, lastChanged)));
        out.printf(Locale.ROOT, "    the first word (\"%s\" -> \"%s\"), %d words back        %.4f%n", words.getFirst(), firstChanged.getFirst(),
                words.size() - 1, distance(a, encode(rnn, vectors, firstChanged)));
        out.printf(Locale.ROOT, "    the first word, with %d more words read after it     %.4f%n", more.size(),
                distance(encode(rnn, vectors, longWords), encode(rnn, vectors, longChanged)));
        explain("Every step squashes the old state, so the start of a long input fades out of the one vector: attention fixes that.");
    }

    private static float distance(float[] a, float[] b) {
        return Vectors.norm(Vectors.subtract(a, b));
    }

    private static float[] encode(ElmanRnn rnn, WordVectors vectors, List<String> words) {
        List<float[]> inputs = new ArrayList<>();
        for (String w : words) inputs.add(Vectors.normalized(vectors.vector(w)));
        return rnn.encode(inputs);
    }

    /** Self-attention over the words' lesson-2 vectors with the lib's scaled dot-product attention. */
    private float[][] attend(WordVectors vectors, List<String> words, float[][] weights) {
        int n = words.size(), d = vectors.dimensions();
        float[][] q = new float[n][], k = new float[n][], v = new float[n][];
        // Attention divides scores by √d; queries of length √d / T make a score exactly cos / T.
        float queryLength = (float) (Math.sqrt(d) / temperature);
        for (int i = 0; i < n; i++) {
            float[] x = vectors.vector(words.get(i));
            k[i] = Vectors.normalized(x);
            q[i] = Vectors.scale(k[i], queryLength);
            v[i] = k[i];
        }
        return Attention.scaledDotProductAttention(q, k, v, null, weights);
    }

    private void compareShared(String word, List<List<String>> sentenceWords, List<float[][]> contextual, List<float[][]> weightsOf) {
        List<Integer> where = new ArrayList<>();
        for (int s = 0; s < sentenceWords.size() && where.size() < 2; s++) if (sentenceWords.get(s).contains(word)) where.add(s);
        float[] first = contextual.get(where.get(0))[sentenceWords.get(where.get(0)).indexOf(word)];
        float[] second = contextual.get(where.get(1))[sentenceWords.get(where.get(1)).indexOf(word)];
        out.printf(Locale.ROOT, "  static \"%s\" vs static \"%s\":          cosine 1.000%n", word, word);
        out.printf(Locale.ROOT, "  contextual \"%s\" in sentence %d vs %d:   cosine %.3f%n", word, where.get(0) + 1, where.get(1) + 1,
                Vectors.cosine(first, second));
        for (int i = 0; i < 2; i++) {
            int s = where.get(i);
            List<String> words = sentenceWords.get(s);
            float[] row = weightsOf.get(s)[words.indexOf(word)];
            Integer[] order = new Integer[words.size()];
            for (int j = 0; j < order.length; j++) order[j] = j;
            java.util.Arrays.sort(order, (x, y) -> Float.compare(row[y], row[x]));
            StringBuilder took = new StringBuilder();
            for (int j = 0; j < Math.min(4, order.length); j++)
                took.append(String.format(Locale.ROOT, "%s%s %.2f", j > 0 ? ", " : "", words.get(order[j]), row[order[j]]));
            out.println("  \"" + word + "\" of sentence " + (s + 1) + " is made of: " + took + ", ...");
        }
        explain("Same word, different company, different vector: that is a contextual embedding. A transformer stacks many such");
        explain("attention layers, with learned projections, so the mixing is far smarter than these cosines.");
    }

    /**
     * The autoregressive loop with a stand-in for the decoder: counts of which word follows the last
     * two in tiny Shakespeare (a trigram model; the last word alone when those two never occur
     * together). A real decoder computes its next-token scores with attention over everything so far;
     * the loop around it is the same.
     */
    private void decode(List<String> words, List<String> start) {
        Map<String, Map<String, Integer>> next = new HashMap<>();
        for (int i = 0; i + 1 < words.size(); i++) {
            next.computeIfAbsent(words.get(i), w -> new LinkedHashMap<>()).merge(words.get(i + 1), 1, Integer::sum);
            if (i > 0) next.computeIfAbsent(words.get(i - 1) + " " + words.get(i), w -> new LinkedHashMap<>()).merge(words.get(i + 1), 1, Integer::sum);
        }
        explain("The decoder here: how often each word follows the last two in tiny Shakespeare (a real one attends to everything");
        explain("so far). Drawn with seed " + seed + " from the 5 likeliest; the chosen word joins the input for the next step.");
        Sampler sampler = Sampler.of(1f, 5, 1f, seed);
        List<String> text = new ArrayList<>(start.subList(Math.max(0, start.size() - 3), start.size()));
        for (int step = 1; step <= 8; step++) {
            String key = text.size() >= 2 ? text.get(text.size() - 2) + " " + text.getLast() : text.getLast();
            Map<String, Integer> candidates = next.containsKey(key) ? next.get(key) : next.get(text.getLast());
            if (candidates == null) {
                out.println("  (nothing ever follows \"" + text.getLast() + "\" in the text: the loop stops)");
                break;
            }
            List<String> options = new ArrayList<>(candidates.keySet());
            float[] logits = new float[options.size()];
            int total = 0;
            for (int i = 0; i < options.size(); i++) {
                logits[i] = (float) Math.log(candidates.get(options.get(i)));
                total += candidates.get(options.get(i));
            }
            String word = options.get(sampler.sample(logits));
            out.printf(Locale.ROOT, "  step %d: %-44s -> %s  (%d of %d times)%n", step, String.join(" ", text), colors.render(List.of(word)),
                    candidates.get(word), total);
            text.add(word);
        }
    }

    /** The rarest word that occurs in two of the sentences ("bank" rather than "the"), or null. */
    private static String sharedWord(List<List<String>> sentenceWords, WordVectors vectors) {
        Map<String, Integer> inSentences = new LinkedHashMap<>();
        for (List<String> words : sentenceWords) for (String w : words.stream().distinct().toList()) inSentences.merge(w, 1, Integer::sum);
        String best = null;
        for (var e : inSentences.entrySet()) {
            if (e.getValue() >= 2 && (best == null || vectors.count(e.getKey()) < vectors.count(best))) best = e.getKey();
        }
        return best;
    }

    private static String firstNumbers(float[] v, int n) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < Math.min(n, v.length); i++) s.append(i > 0 ? ", " : "").append(String.format(Locale.ROOT, "%.2f", v[i]));
        return s.append(v.length > n ? ", ... " + v.length + " numbers]" : "]").toString();
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
        for (String line : block.split("\n")) out.append("  ").append(line).append('\n');
        return out.toString();
    }

    /** Non-blank lines of stdin. */
    private static List<String> readStdinLines() {
        return Cli.readStdin().lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
