///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION Lesson 1: language as a bag-of-words: vocabulary, count vectors, cosine similarity, a document search.
//DEPS info.picocli:picocli:4.7.7
//SOURCES ../lib/llm/Cli.java
//SOURCES ../lib/llm/TokenColors.java
//SOURCES ../lib/llm/Tokenizers.java
//SOURCES ../lib/llm/Corpus.java
//SOURCES ../lib/llm/BagOfWords.java
//SOURCES ../lib/llm/Vectors.java
//SOURCES ../lib/llm/Heatmap.java

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import llm.BagOfWords;
import llm.Cli;
import llm.Corpus;
import llm.Heatmap;
import llm.TokenColors;
import llm.Tokenizer;
import llm.Tokenizers;
import llm.Vectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Lesson 1 of "How Transformer LLMs Work": the oldest way to turn text into numbers. Count the
 * words; a text becomes a vector of counts over a vocabulary; similar texts have similar counts.
 */
@Command(name = "bag-of-words", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Language as a bag-of-words: vocabulary, count vectors, cosine similarity, and a search of tiny Shakespeare.",
                "With no SENTENCE: the course's two sentences, \"That is a cute dog\" and \"My cat is cute\"."})
public class Lesson01_BagOfWords implements Callable<Integer> {

    static final List<String> COURSE = List.of("That is a cute dog", "My cat is cute");
    static final String DEFAULT_QUERY = "the crown of England";

    @Parameters(arity = "0..*", paramLabel = "SENTENCE",
            description = "Sentences to compare (each argument one sentence), or - to read one sentence per line from stdin.")
    List<String> sentences;

    @Option(names = "--query", paramLabel = "TEXT", description = "What to search tiny Shakespeare for (default: \"" + DEFAULT_QUERY + "\").")
    String query = DEFAULT_QUERY;

    @Option(names = "--tokenizer", paramLabel = "ID|PATH", description = "The trained tokenizer of section 6 (default: gpt2).")
    String tokenizerName = "gpt2";

    @Option(names = "--color", paramLabel = "auto|always|never", defaultValue = "auto",
            description = "Colour: auto (default: only on a terminal, and not when NO_COLOR is set), always, never.")
    TokenColors.Choice color;

    private final PrintStream out = System.out;
    private TokenColors colors;

    public static void main(String[] args) {
        System.exit(Cli.run(new Lesson01_BagOfWords(), args));
    }

    @Override
    public Integer call() throws IOException {
        List<String> texts = sentences == null || sentences.isEmpty() ? COURSE
                : sentences.equals(List.of("-")) ? readStdinLines() : sentences;
        if (texts.isEmpty()) throw new IllegalArgumentException("no sentences: give one or more, or - to read them from stdin");
        List<List<String>> words = new ArrayList<>();
        for (String text : texts) {
            List<String> w = Corpus.words(text);
            if (w.isEmpty()) throw new IllegalArgumentException("\"" + text + "\" has no words in it");
            words.add(w);
        }
        // Section 6's tokenizer loads in the background while sections 1-5 print.
        var loading = java.util.concurrent.CompletableFuture.supplyAsync(() -> Tokenizers.load(tokenizerName));
        boolean color = TokenColors.useColor(this.color);
        TokenColors.installConsole(color);
        colors = new TokenColors(color, TokenColors.Mode.BACKGROUND);

        out.println("Lesson 1 · Language as a bag-of-words");

        heading("1. Cut each sentence into words");
        explain("The simplest tokenizer: split at spaces and punctuation, and lower-case everything.");
        for (int i = 0; i < texts.size(); i++) out.println("  " + quoted(texts, i) + "  ->  " + colors.render(words.get(i)));

        heading("2. The vocabulary: every distinct word, in order of first appearance");
        BagOfWords bow = BagOfWords.fit(words);
        out.println("  " + bow.size() + " words: " + String.join(" ", bow.vocabulary()));

        heading("3. Each sentence as a vector: how often each vocabulary word occurs in it");
        List<int[]> vectors = new ArrayList<>();
        for (List<String> w : words) vectors.add(bow.vector(w));
        printCountTable(bow.vocabulary(), texts, vectors);
        explain("Every sentence now has the same length (" + bow.size() + " numbers), whatever its own length: a model can compare them.");

        heading("4. How similar are they? The cosine of the angle between the count vectors");
        explain("cos(a, b) = a·b / (|a| |b|): 1 = the same words in the same proportions, 0 = no word in common.");
        if (texts.size() == 1) {
            out.println("  (give two or more sentences to compare them)");
        } else {
            printCosine(texts, vectors, bow);
        }

        heading("5. What a bag of words loses");
        showLoss("Word order", "dog bites man", "man bites dog", "the same words, so the same vector: who bit whom is gone");
        showLoss("Meaning", "cute", "adorable", "nearly the same meaning, but different words: nothing in common");

        heading("6. The same with a trained tokenizer's pieces instead of words (" + tokenizerName + ")");
        try (Tokenizer tokenizer = join(loading)) {
            explain("The vocabulary is now the tokenizer's, fixed in advance: " + String.format(Locale.ROOT, "%,d", tokenizer.vocabularyLength())
                    + " pieces, so each vector has that many slots, almost all 0. Rare words still get counted, as pieces.");
            List<Map<String, Integer>> pieceCounts = new ArrayList<>();
            List<List<String>> allPieces = new ArrayList<>();
            for (String text : texts) {
                List<String> pieces = tokenizer.tokens(tokenizer.encode(text, false));
                allPieces.add(pieces);
                pieceCounts.add(BagOfWords.counts(pieces));
                out.println("  " + quoted(texts, allPieces.size() - 1) + "  ->  " + colors.render(pieces));
            }
            if (texts.size() > 1) {
                out.printf(Locale.ROOT, "  cosine(sentence 1, sentence 2) over pieces = %.3f%n", BagOfWords.cosine(pieceCounts.get(0), pieceCounts.get(1)));
                if (tokenizerName.equals("gpt2"))
                    explain("GPT-2's pieces keep the space before a word (\" cute\" is not \"cute\") and its capitals (\"My\" is not \"my\").");
            }
        }

        heading("7. Bag-of-words at work: searching tiny Shakespeare");
        search(query);
        return 0;
    }

    private void printCountTable(List<String> vocabulary, List<String> texts, List<int[]> vectors) {
        int labelWidth = 0;
        List<String> labels = new ArrayList<>();
        for (String t : texts) {
            String label = t.length() > 28 ? t.substring(0, 27) + "…" : t;
            labels.add(label);
            labelWidth = Math.max(labelWidth, label.length());
        }
        StringBuilder header = new StringBuilder("  " + " ".repeat(labelWidth));
        for (String word : vocabulary) header.append("  ").append(word);
        out.println(header);
        for (int s = 0; s < texts.size(); s++) {
            StringBuilder row = new StringBuilder("  " + labels.get(s) + " ".repeat(labelWidth - labels.get(s).length()));
            int[] v = vectors.get(s);
            for (int i = 0; i < v.length; i++) {
                String word = vocabulary.get(i);
                String n = Integer.toString(v[i]);
                row.append("  ").append(" ".repeat(Math.max(0, word.length() - n.length()))).append(n);
            }
            out.println(row);
        }
    }

    private void printCosine(List<String> texts, List<int[]> vectors, BagOfWords bow) {
        int[] a = vectors.get(0), b = vectors.get(1);
        List<String> shared = new ArrayList<>();
        long dot = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (long) a[i] * b[i];
            aa += (long) a[i] * a[i];
            bb += (long) b[i] * b[i];
            if (a[i] > 0 && b[i] > 0) shared.add(bow.vocabulary().get(i));
        }
        out.printf(Locale.ROOT, "  sentence 1 · sentence 2 = %d (shared: %s)%n", dot, shared.isEmpty() ? "nothing" : String.join(", ", shared));
        out.printf(Locale.ROOT, "  |sentence 1| = √%d = %.3f   |sentence 2| = √%d = %.3f%n", aa, Math.sqrt(aa), bb, Math.sqrt(bb));
        out.printf(Locale.ROOT, "  cosine = %d / (%.3f × %.3f) = %.3f%n", dot, Math.sqrt(aa), Math.sqrt(bb), Vectors.cosine(a, b));
        if (texts.size() > 2) {
            out.println();
            out.println("  All pairs (S1 = the first sentence, ...):");
            List<String> labels = new ArrayList<>();
            float[][] cos = new float[texts.size()][texts.size()];
            for (int i = 0; i < texts.size(); i++) {
                labels.add("S" + (i + 1));
                for (int j = 0; j < texts.size(); j++) cos[i][j] = (float) Vectors.cosine(vectors.get(i), vectors.get(j));
            }
            out.print(indent(Heatmap.render(labels, labels, cos, colors.color())));
        }
    }

    private void showLoss(String what, String first, String second, String why) {
        BagOfWords bow = BagOfWords.fit(List.of(Corpus.words(first), Corpus.words(second)));
        int[] a = bow.vector(Corpus.words(first)), b = bow.vector(Corpus.words(second));
        out.printf(Locale.ROOT, "  %s: \"%s\" %s and \"%s\" %s  ->  cosine %.3f%n", what,
                first, java.util.Arrays.toString(a), second, java.util.Arrays.toString(b), Vectors.cosine(a, b));
        out.println("    " + why);
    }

    private void search(String query) {
        Corpus corpus = Corpus.tinyShakespeare();
        List<String> paragraphs = corpus.paragraphs();
        List<Map<String, Integer>> documents = new ArrayList<>(paragraphs.size());
        for (String p : paragraphs) documents.add(BagOfWords.counts(Corpus.words(p)));
        List<String> queryWords = Corpus.words(query);
        explain(String.format(Locale.ROOT, "%,d speeches (paragraphs) as count vectors; the query \"%s\" too; the speeches with the highest cosine win.",
                paragraphs.size(), query));
        if (queryWords.isEmpty()) {
            out.println("  The query has no words in it.");
            return;
        }
        printHits(paragraphs, BagOfWords.search(queryWords, documents, 3), queryWords);
        explain("Frequent little words (the, of, and) count as much as rare ones, so they decide the ranking.");

        // Words found in more than 5 % of the speeches say little about any one of them.
        Map<String, Integer> speechesWith = new java.util.HashMap<>();
        for (Map<String, Integer> d : documents) for (String w : d.keySet()) speechesWith.merge(w, 1, Integer::sum);
        List<String> rare = queryWords.stream().filter(w -> speechesWith.getOrDefault(w, 0) <= paragraphs.size() / 20).toList();
        if (!rare.isEmpty() && rare.size() < queryWords.size()) {
            out.println();
            out.println("  Again, without the query's words that occur in more than 5 % of the speeches: \"" + String.join(" ", rare) + "\"");
            printHits(paragraphs, BagOfWords.search(rare, documents, 3), rare);
        }
        explain("Better, but still word for word: a speech about the \"throne\" or the \"realm\" scores 0. Embeddings (lesson 2) fix that.");
    }

    private void printHits(List<String> paragraphs, List<BagOfWords.Hit> hits, List<String> queryWords) {
        if (hits.isEmpty()) out.println("  No speech shares a word with the query.");
        for (int rank = 0; rank < hits.size(); rank++) {
            BagOfWords.Hit hit = hits.get(rank);
            List<String> lines = paragraphs.get(hit.document()).lines().toList();
            out.printf(Locale.ROOT, "  %d. cosine %.3f  (speech %d)%n", rank + 1, hit.score(), hit.document() + 1);
            for (int i = 0; i < Math.min(4, lines.size()); i++) out.println("       " + highlight(lines.get(i), queryWords));
            if (lines.size() > 4) out.println("       …");
        }
    }

    /** The query's words in the line, shown in the palette's first colour (or in [brackets] without colour). */
    private String highlight(String line, List<String> queryWords) {
        StringBuilder out = new StringBuilder();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("[\\p{L}\\p{N}]+(?:'[\\p{L}\\p{N}]+)*").matcher(line);
        int last = 0;
        while (m.find()) {
            out.append(line, last, m.start());
            String word = m.group();
            if (queryWords.contains(word.toLowerCase(Locale.ROOT))) {
                out.append(colors.color() ? colors.paint(word, TokenColors.PALETTE.get(1)) : "[" + word + "]");
            } else {
                out.append(word);
            }
            last = m.end();
        }
        return out.append(line.substring(last)).toString();
    }

    /** Sentence i in quotes, padded so that the arrows line up. */
    private static String quoted(List<String> texts, int i) {
        int width = 0;
        for (String t : texts) width = Math.max(width, t.length());
        return "\"" + texts.get(i) + "\"" + " ".repeat(width - texts.get(i).length());
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

    private void explain(String text) {
        out.println("  " + text);
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
