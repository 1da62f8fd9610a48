///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION Lesson 2: word embeddings: word2vec trained here on tiny Shakespeare; neighbours, similarities, an analogy, token embeddings.
//DEPS info.picocli:picocli:4.7.7
//SOURCES ../lib/llm/Cli.java
//SOURCES ../lib/llm/TokenColors.java
//SOURCES ../lib/llm/Tokenizers.java
//SOURCES ../lib/llm/Corpus.java
//SOURCES ../lib/llm/BagOfWords.java
//SOURCES ../lib/llm/Vectors.java
//SOURCES ../lib/llm/Word2Vec.java
//SOURCES ../lib/llm/WordVectors.java
//SOURCES ../lib/llm/TrainingProgress.java
//SOURCES ../lib/llm/Heatmap.java
//SOURCES ../lib/llm/LessonModel.java
//SOURCES ../lib/llm/ProgressBar.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import llm.BagOfWords;
import llm.Cli;
import llm.Corpus;
import llm.Heatmap;
import llm.Hub;
import llm.LessonModel;
import llm.ProgressBar;
import llm.TokenColors;
import llm.Tokenizer;
import llm.Tokenizers;
import llm.TrainingProgress;
import llm.Vectors;
import llm.Word2Vec;
import llm.WordVectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Lesson 2 of "How Transformer LLMs Work": embeddings. word2vec learns a vector per word from
 * which words keep company in a real text; words used alike get vectors that point alike.
 */
@Command(name = "embeddings", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Word embeddings: word2vec (skip-gram with negative sampling) trained here, in Java, on tiny Shakespeare",
                "(about 10 s the first time, then cached): nearest neighbours, word similarities, an analogy, why this beats",
                "bag-of-words, and embeddings of tokens, words and sentences.",
                "With no WORD: king, love, night, father and sword."})
public class Lesson02_Embeddings implements Callable<Integer> {

    static final List<String> DEFAULT_WORDS = List.of("king", "love", "night", "father", "sword");
    static final String[][] PAIRS = {{"king", "queen"}, {"father", "mother"}, {"day", "night"}, {"love", "hate"},
            {"king", "night"}, {"father", "sword"}, {"love", "horse"}};
    static final String[][] ANALOGIES = {{"he", "she", "his"}, {"father", "mother", "son"}};
    static final List<String> SENTENCES = List.of("the king is dead", "the queen was slain", "my lord is dead", "I love thee");
    static final List<String> PIECE_WORDS = List.of("Bolingbroke", "unkindness", "kingship");

    @Parameters(arity = "0..*", paramLabel = "WORD", description = "Words to find the nearest neighbours of, or - to read them from stdin.")
    List<String> words;

    @Option(names = "--analogy", paramLabel = "A,B,C", split = ",", description = "\"A is to B as C is to ?\" (default: he,she,his and father,mother,son).")
    List<String> analogy;

    @Option(names = "--corpus", paramLabel = "FILE", description = "Train on this UTF-8 text instead of tiny Shakespeare.")
    Path corpusFile;

    @Option(names = "--model", paramLabel = "PATH|q4|fp16",
            description = "Section 7 with a Phi-3 GGUF model's own token embeddings (its 32,064 x 3,072 input table) instead of trained ones.")
    String model;

    @Option(names = "--epochs", paramLabel = "N", description = "Passes over the text (default: 10).")
    int epochs = Word2Vec.Params.defaults().epochs();

    @Option(names = "--dimensions", paramLabel = "N", description = "Numbers per word vector (default: 100).")
    int dimensions = Word2Vec.Params.defaults().dimensions();

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the random start and draws (default: 42).")
    long seed = Word2Vec.Params.defaults().seed();

    @Option(names = "--color", paramLabel = "auto|always|never", defaultValue = "auto",
            description = "Colour: auto (default: only on a terminal, and not when NO_COLOR is set), always, never.")
    TokenColors.Choice color;

    private final PrintStream out = System.out;
    private TokenColors colors;

    public static void main(String[] args) {
        System.exit(Cli.run(new Lesson02_Embeddings(), args));
    }

    @Override
    public Integer call() throws IOException {
        List<String> asked = words == null || words.isEmpty() ? DEFAULT_WORDS
                : words.equals(List.of("-")) ? Corpus.words(readStdin()) : words.stream().map(w -> w.toLowerCase(Locale.ROOT)).toList();
        if (asked.isEmpty()) throw new IllegalArgumentException("no words given: name some words, or - to read them from stdin");
        if (analogy != null && analogy.size() != 3) throw new IllegalArgumentException("--analogy takes three words A,B,C, got " + analogy.size());
        Word2Vec.Params params = Word2Vec.Params.defaults().withEpochs(epochs).withDimensions(dimensions).withSeed(seed);
        boolean color = TokenColors.useColor(this.color);
        TokenColors.installConsole(color);
        colors = new TokenColors(color, TokenColors.Mode.BACKGROUND);

        out.println("Lesson 2 · Embeddings: word2vec, trained here");

        heading("1. The text: " + (corpusFile == null ? "tiny Shakespeare (shipped)" : corpusFile.toString()));
        Corpus corpus = corpusFile == null ? Corpus.tinyShakespeare() : Corpus.read(corpusFile);
        List<String> corpusWords = corpus.words();
        long distinct = corpusWords.stream().distinct().count();
        out.printf(Locale.ROOT, "  %,d characters, %,d words, %,d different ones. Words seen fewer than %d times are left out.%n",
                corpus.text().length(), corpusWords.size(), distinct, params.minCount());

        // Loading the tokenizer takes a moment: start it now.
        CompletableFuture<Tokenizer> loading = CompletableFuture.supplyAsync(() -> Tokenizers.load(Tokenizers.PHI3));
        LessonModel phi3Model = model == null ? null
                : LessonModel.open(model, Hub.fromEnvironment(), new ProgressBar(System.err)).orElseThrow();
        try (Tokenizer phi3 = join(loading)) {
            // Section 7's vectors are cached under the text's hash and the tokenizer's name, so a cached run never tokenizes the text.
            String pieceRecipe = "phi3 tokens, paragraph by paragraph, of " + Word2Vec.sha256(corpus.text());
            java.util.function.Supplier<List<String>> pieces = () -> pieceIds(phi3, corpus.text());
            Path cache = Word2Vec.defaultCacheDirectory();
            boolean wordsCached = Files.isRegularFile(Word2Vec.cacheFile(corpusWords, params, cache));
            boolean piecesCached = phi3Model != null || Files.isRegularFile(Word2Vec.cacheFile(pieceRecipe, params, cache));
            TrainingProgress progress = new TrainingProgress(System.err, (wordsCached ? 0 : 1) + (piecesCached ? 0 : 1));

            heading("2. Training word2vec: skip-gram with negative sampling");
            explain("For each word and each neighbour within " + params.window() + " words: make σ(input(neighbour) · output(word)) close to 1,");
            explain("and for " + params.negatives() + " random words close to 0. " + params.dimensions() + " numbers per word, "
                    + params.epochs() + " passes, seed " + params.seed() + ".");
            long started = System.nanoTime();
            Word2Vec.Listener wordsProgress = wordsCached ? Word2Vec.Listener.NONE : progress.part();
            Word2Vec.Listener piecesProgress = piecesCached ? Word2Vec.Listener.NONE : progress.part();
            CompletableFuture<WordVectors> pieceTraining = phi3Model != null ? CompletableFuture.completedFuture(null)
                    : CompletableFuture.supplyAsync(() -> trainPieces(pieceRecipe, pieces, params, cache, piecesProgress));
            WordVectors vectors = train(corpusWords, params, cache, wordsProgress);
            WordVectors pieceVectors = join(pieceTraining);
            progress.finish();
            double seconds = (System.nanoTime() - started) / 1e9;
            out.printf(Locale.ROOT, "  %s: %,d words x %d numbers%n", wordsCached ? "Loaded from the cache" : String.format(Locale.ROOT, "Trained in %.1f s", seconds),
                    vectors.size(), vectors.dimensions());
            out.println("  Cached in " + cache + " (delete it to train again).");

            heading("3. Nearest neighbours: the words whose vectors point most nearly the same way (cosine)");
            for (String word : asked) {
                if (!known(vectors, word)) continue;
                StringBuilder line = new StringBuilder();
                for (WordVectors.Neighbour n : vectors.nearest(word, 6))
                    line.append(String.format(Locale.ROOT, "  %s %.2f", n.word(), n.similarity()));
                out.printf(Locale.ROOT, "  %-10s ->%s%n", word, line);
            }

            heading("4. Similarity of word pairs");
            for (String[] pair : PAIRS) {
                if (vectors.contains(pair[0]) && vectors.contains(pair[1]))
                    out.printf(Locale.ROOT, "  %-8s %-8s %6.3f%n", pair[0], pair[1], vectors.similarity(pair[0], pair[1]));
            }
            explain("Words used in the same places (king, queen: \"the ___ is\", \"my ___\") score high; unrelated pairs near 0.");

            heading("5. Analogies: A is to B as C is to ?  (the words nearest to B - A + C)");
            List<String[]> questions = analogy == null ? List.of(ANALOGIES)
                    : List.<String[]>of(analogy.stream().map(w -> w.toLowerCase(Locale.ROOT)).toArray(String[]::new));
            for (String[] q : questions) {
                if (!(known(vectors, q[0]) & known(vectors, q[1]) & known(vectors, q[2]))) continue;
                StringBuilder line = new StringBuilder();
                for (WordVectors.Neighbour n : vectors.analogy(q[0], q[1], q[2], 5))
                    line.append(String.format(Locale.ROOT, "  %s %.2f", n.word(), n.similarity()));
                out.printf(Locale.ROOT, "  %s : %s :: %s : ?   ->%s%n", q[0], q[1], q[2], line);
            }
            explain(String.format(Locale.ROOT, "A text of %,d words knows only some of these relations; word2vec's famous king - man + woman = queen",
                    corpusWords.size()));
            explain("took billions.");

            heading("6. Why this beats bag-of-words");
            whyBetter(vectors);

            heading("7. Types of embeddings: tokens, words, sentences (Phi-3's tokenizer)");
            PieceTable table;
            if (phi3Model == null) {
                explain("The same training on the text cut into Phi-3's tokens (" + String.format(Locale.ROOT, "%,d", pieceVectors.size())
                        + " different tokens seen at least " + params.minCount() + " times): a vector per token.");
                table = PieceTable.of(pieceVectors);
            } else {
                table = PieceTable.of(phi3Model);
                explain("The token embeddings of the model in " + phi3Model.file().getFileName() + ": " + String.format(Locale.ROOT, "%,d x %,d",
                        phi3Model.model().config().vocabSize(), table.dimensions()) + ", learned with everything else while the model was trained.");
            }
            explain("A word's embedding: the mean of its tokens' vectors, so even a word never seen whole gets one.");
            explain("Built that way for every word of section 3's vocabulary, the nearest words to:");
            WordVectors wordsFromPieces = wordsFromPieces(phi3, table, vectors.words());
            for (String word : PIECE_WORDS) pieceWord(phi3, table, wordsFromPieces, word);
            explain("A sentence's embedding: the mean of its words' embeddings. Cosines between sentences:");
            sentences(phi3, table);
        } finally {
            if (phi3Model != null) phi3Model.close();
        }
        return 0;
    }

    private static WordVectors train(List<String> tokens, Word2Vec.Params params, Path cache, Word2Vec.Listener listener) {
        try {
            return Word2Vec.trainOrLoad(tokens, params, cache, listener);
        } catch (IOException e) {
            // A cache we cannot write is no reason to stop: train without it.
            return Word2Vec.train(tokens, params, listener);
        }
    }

    private static WordVectors trainPieces(String recipe, java.util.function.Supplier<List<String>> pieces, Word2Vec.Params params, Path cache,
                                           Word2Vec.Listener listener) {
        try {
            return Word2Vec.trainOrLoad(recipe, pieces, params, cache, listener);
        } catch (IOException e) {
            return Word2Vec.train(pieces.get(), params, listener);
        }
    }

    private static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw e;
        }
    }

    /** The text as Phi-3 token ids (as strings, so that word2vec treats each id as a "word"). */
    private static List<String> pieceIds(Tokenizer tokenizer, String text) {
        List<String> ids = new ArrayList<>();
        // Paragraph by paragraph: the tokenizer is quicker on many short texts than on one long one.
        for (String paragraph : text.split("\n\n")) for (long id : tokenizer.encode(paragraph, false)) ids.add(Long.toString(id));
        return ids;
    }

    private boolean known(WordVectors vectors, String word) {
        if (vectors.contains(word)) return true;
        out.printf(Locale.ROOT, "  %-10s    not in the vocabulary (seen %d times in the text)%n", word, vectors.count(word));
        return false;
    }

    private void whyBetter(WordVectors vectors) {
        String a = "the king is dead", b = "the queen was slain";
        List<String> wa = Corpus.words(a), wb = Corpus.words(b);
        BagOfWords bow = BagOfWords.fit(List.of(wa, wb));
        double bowCosine = Vectors.cosine(bow.vector(wa), bow.vector(wb));
        out.printf(Locale.ROOT, "  \"%s\" vs \"%s\"%n", a, b);
        out.printf(Locale.ROOT, "    bag-of-words cosine     %.3f   (only \"the\" is shared)%n", bowCosine);
        float[] ea = meanOfWords(vectors, wa), eb = meanOfWords(vectors, wb);
        if (ea != null && eb != null)
            out.printf(Locale.ROOT, "    mean of word vectors    %.3f   (king~queen, dead~slain count as alike)%n", Vectors.cosine(ea, eb));
        explain("Each word is " + vectors.dimensions() + " dense numbers instead of one slot in a vocabulary-long count vector,");
        explain("and words never seen together in one sentence still land near each other if they keep the same company.");
    }

    private static float[] meanOfWords(WordVectors vectors, List<String> words) {
        List<float[]> known = new ArrayList<>();
        for (String w : words) if (vectors.contains(w)) known.add(vectors.vector(w));
        return known.isEmpty() ? null : Vectors.mean(known);
    }

    /** A word through the tokenizer, its tokens' vectors averaged, and the words whose averages are nearest. */
    private void pieceWord(Tokenizer tokenizer, PieceTable pieceVectors, WordVectors wordsFromPieces, String word) {
        float[] embedding = wordFromPieces(tokenizer, pieceVectors, word);
        List<String> shown = tokenizer.tokens(tokenizer.encode(word, false));
        if (embedding == null) {
            out.println("  " + word + "  ->  " + colors.render(shown) + "   (no token of it was seen often enough)");
            return;
        }
        List<String> near = new ArrayList<>();
        for (WordVectors.Neighbour n : wordsFromPieces.nearest(embedding, 6, List.of(word.toLowerCase(Locale.ROOT)))) near.add(n.word());
        out.printf(Locale.ROOT, "    %-12s %s  ->  %s%n", word, colors.render(shown), String.join(", ", near));
    }

    /** Every word of the vocabulary embedded as the mean of its tokens' vectors. */
    private static WordVectors wordsFromPieces(Tokenizer tokenizer, PieceTable pieceVectors, List<String> words) {
        List<String> kept = new ArrayList<>();
        List<float[]> rows = new ArrayList<>();
        for (String w : words) {
            float[] v = wordFromPieces(tokenizer, pieceVectors, w);
            if (v == null) continue;
            kept.add(w);
            rows.add(v);
        }
        int d = pieceVectors.dimensions();
        float[] flat = new float[rows.size() * d];
        for (int i = 0; i < rows.size(); i++) System.arraycopy(rows.get(i), 0, flat, i * d, d);
        return new WordVectors(kept, new long[kept.size()], d, flat);
    }

    private static float[] wordFromPieces(Tokenizer tokenizer, PieceTable pieceVectors, String word) {
        List<float[]> vectors = new ArrayList<>();
        for (long id : tokenizer.encode(word, false)) {
            float[] v = pieceVectors.vector(id);
            if (v != null) vectors.add(v);
        }
        return vectors.isEmpty() ? null : Vectors.mean(vectors);
    }

    /** A vector per token id: trained here, or a model's input embedding table. Null for an id it has none for. */
    interface PieceTable {
        float[] vector(long id);

        int dimensions();

        static PieceTable of(WordVectors trained) {
            return new PieceTable() {
                public float[] vector(long id) { return trained.contains(Long.toString(id)) ? trained.vector(Long.toString(id)) : null; }
                public int dimensions() { return trained.dimensions(); }
            };
        }

        static PieceTable of(LessonModel model) {
            int dims = model.model().config().embeddingLength(), rows = model.model().config().vocabSize();
            return new PieceTable() {
                public float[] vector(long id) {
                    if (id < 0 || id >= rows) return null;
                    float[] row = new float[dims];
                    model.model().tokenEmbedding().dequantize(id * dims, row, 0, dims);
                    return row;
                }
                public int dimensions() { return dims; }
            };
        }
    }

    private void sentences(Tokenizer tokenizer, PieceTable pieceVectors) {
        List<float[]> embeddings = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < SENTENCES.size(); i++) {
            List<float[]> words = new ArrayList<>();
            for (String w : SENTENCES.get(i).split(" ")) {
                float[] v = wordFromPieces(tokenizer, pieceVectors, w);
                if (v != null) words.add(v);
            }
            embeddings.add(words.isEmpty() ? new float[pieceVectors.dimensions()] : Vectors.mean(words));
            labels.add("S" + (i + 1));
            out.println("    S" + (i + 1) + " = \"" + SENTENCES.get(i) + "\"");
        }
        float[][] cos = new float[labels.size()][labels.size()];
        for (int i = 0; i < labels.size(); i++)
            for (int j = 0; j < labels.size(); j++) cos[i][j] = Vectors.cosine(embeddings.get(i), embeddings.get(j));
        for (String line : Heatmap.render(labels, labels, cos, colors.color()).split("\n")) out.println("    " + line);
        explain("Real models learn their token embeddings along with everything else (Phi-3: 32,064 x 3,072), and their");
        explain("sentence embeddings come out of the transformer, so word order and context count too (lessons 3 and 4).");
    }

    private void heading(String title) {
        out.println();
        out.println(TokenColors.heading(title, colors.color()));
    }

    private void explain(String line) {
        out.println("  " + line);
    }

    private static String readStdin() {
        return Cli.readStdin();
    }
}
