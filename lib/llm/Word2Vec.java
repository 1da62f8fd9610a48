//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
//SOURCES WordVectors.java
//SOURCES CorpusException.java
package llm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * word2vec (Mikolov et al. 2013): skip-gram with negative sampling. Every word gets an input
 * vector (its embedding) and an output vector. For each word and each neighbour within a window,
 * training pushes σ(input(neighbour) · output(word)) towards 1 and, for a few words drawn at random
 * (the "negative samples", drawn by count^0.75), towards 0. Words that keep the same company end up
 * with similar input vectors.
 *
 * <p>One thread, plain stochastic gradient descent, all random numbers from the seed: the same
 * tokens and parameters give the same vectors on a machine. (The paper's code lets threads write
 * the shared weights without locks, which is fast but never gives the same vectors twice; training
 * shards on copies and merging them was tried and made the vectors of frequent words blur into each
 * other on a text this small. A lesson that needs two models trains them side by side instead.)
 * About a second per epoch for tiny Shakespeare.
 */
public final class Word2Vec {

    /** Progress reports per epoch. */
    static final int REPORTS_PER_EPOCH = 20;

    private static final float MAX_EXP = 8f;
    private static final int TABLE = 4096;
    /** σ(x) and −log σ(x) at TABLE+1 points over [−MAX_EXP, MAX_EXP] (the paper's code uses such a table too). */
    private static final float[] SIGMOID = new float[TABLE + 1], MINUS_LOG_SIGMOID = new float[TABLE + 1];
    static {
        for (int i = 0; i <= TABLE; i++) {
            double x = (2.0 * i / TABLE - 1) * MAX_EXP;
            SIGMOID[i] = (float) (1 / (1 + Math.exp(-x)));
            MINUS_LOG_SIGMOID[i] = (float) Math.log1p(Math.exp(-x));
        }
    }
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Word2Vec() {}

    /**
     * Hyper-parameters. {@code sample} is the sub-sampling threshold of frequent words (1e-3 in the
     * paper's code; 0 = off); the learning rate falls linearly from {@code learningRate} to almost 0.
     */
    public record Params(int dimensions, int window, int negatives, int epochs, int minCount, double sample,
                         float learningRate, long seed) {
        public Params {
            check(dimensions >= 1 && dimensions <= 4096, "dimensions must be 1..4096, got " + dimensions);
            check(window >= 1 && window <= 100, "window must be 1..100, got " + window);
            check(negatives >= 1 && negatives <= 100, "negatives must be 1..100, got " + negatives);
            check(epochs >= 1 && epochs <= 1000, "epochs must be 1..1000, got " + epochs);
            check(minCount >= 1, "min count must be at least 1, got " + minCount);
            check(sample >= 0 && sample < 1, "sample must be in [0, 1), got " + sample);
            check(learningRate > 0 && learningRate <= 1, "learning rate must be in (0, 1], got " + learningRate);
        }

        /** What the lessons use: 100 dimensions, window 5, 5 negatives, 10 epochs, words seen at least 3 times. */
        public static Params defaults() {
            return new Params(100, 5, 5, 10, 3, 1e-3, 0.025f, 42);
        }

        public Params withDimensions(int dimensions) {
            return new Params(dimensions, window, negatives, epochs, minCount, sample, learningRate, seed);
        }

        public Params withEpochs(int epochs) {
            return new Params(dimensions, window, negatives, epochs, minCount, sample, learningRate, seed);
        }

        public Params withMinCount(int minCount) {
            return new Params(dimensions, window, negatives, epochs, minCount, sample, learningRate, seed);
        }

        public Params withSeed(long seed) {
            return new Params(dimensions, window, negatives, epochs, minCount, sample, learningRate, seed);
        }

        private static void check(boolean ok, String message) {
            if (!ok) throw new IllegalArgumentException("word2vec: " + message);
        }
    }

    /** Hears how training goes; called on the training thread. */
    public interface Listener {
        /** Twenty times per epoch: tokens trained on so far out of the total, and the mean loss per prediction since the last call. */
        void progress(long done, long total, double loss);

        /** After each epoch (1-based): its mean loss per prediction. */
        default void epochFinished(int epoch, double loss) {}

        Listener NONE = (done, total, loss) -> {};
    }

    /** Trains on {@code tokens} (in text order). */
    public static WordVectors train(List<String> tokens, Params params, Listener listener) {
        Vocabulary vocab = Vocabulary.of(tokens, params.minCount());
        int[] stream = vocab.ids(tokens);
        if (vocab.size() < 2)
            throw new CorpusException("the text is too small to train word2vec on: " + vocab.size()
                    + " distinct word(s) occur at least " + params.minCount() + " times");

        int dims = params.dimensions();
        float[] input = new float[vocab.size() * dims];   // syn0: the embeddings we keep
        float[] output = new float[vocab.size() * dims];  // syn1neg: starts at zero, as in the paper's code
        SplittableRandom random = new SplittableRandom(params.seed());
        for (int i = 0; i < input.length; i++) input[i] = (float) ((random.nextDouble() - 0.5) / dims);
        Trainer trainer = new Trainer(input, output, NoiseDistribution.of(vocab.counts), params, random);

        long total = (long) stream.length * params.epochs();
        for (int epoch = 0; epoch < params.epochs(); epoch++) {
            int[] kept = subsample(stream, vocab.counts, params.sample(), random);
            double epochLoss = 0;
            long epochPredictions = 0;
            for (int part = 0; part < REPORTS_PER_EPOCH; part++) {
                long before = (long) stream.length * epoch + (long) stream.length * part / REPORTS_PER_EPOCH;
                long after = (long) stream.length * epoch + (long) stream.length * (part + 1) / REPORTS_PER_EPOCH;
                trainer.loss = 0;
                trainer.predictions = 0;
                trainer.train(kept, kept.length * part / REPORTS_PER_EPOCH, kept.length * (part + 1) / REPORTS_PER_EPOCH,
                        learningRate(params, before, total), learningRate(params, after, total));
                epochLoss += trainer.loss;
                epochPredictions += trainer.predictions;
                listener.progress(after, total, trainer.predictions == 0 ? 0 : trainer.loss / trainer.predictions);
            }
            listener.epochFinished(epoch + 1, epochPredictions == 0 ? 0 : epochLoss / epochPredictions);
        }
        center(input, dims);
        return new WordVectors(vocab.words, vocab.counts, dims, input);
    }

    /**
     * The vectors from the cache if this exact training was done before (same tokens, same
     * parameters), else trains and stores them there. A damaged cache file is trained over.
     */
    public static WordVectors trainOrLoad(List<String> tokens, Params params, Path cacheDirectory, Listener listener) throws IOException {
        Path file = cacheFile(tokens, params, cacheDirectory);
        if (Files.isRegularFile(file)) {
            try {
                return WordVectors.load(file);
            } catch (CorpusException damaged) {
                // train again and replace it
            }
        }
        WordVectors vectors = train(tokens, params, listener);
        vectors.save(file);
        return vectors;
    }

    /**
     * Like {@link #trainOrLoad(List, Params, Path, Listener)}, but the cache file is named by a
     * {@code recipe} that determines the tokens (for example a hash of the text and the name of the
     * tokenizer that cuts it), so that a cached run never has to make the tokens: {@code tokens} is
     * only called when training.
     */
    public static WordVectors trainOrLoad(String recipe, java.util.function.Supplier<List<String>> tokens, Params params, Path cacheDirectory,
                                          Listener listener) throws IOException {
        Path file = cacheFile(recipe, params, cacheDirectory);
        if (Files.isRegularFile(file)) {
            try {
                return WordVectors.load(file);
            } catch (CorpusException damaged) {
                // train again and replace it
            }
        }
        WordVectors vectors = train(tokens.get(), params, listener);
        vectors.save(file);
        return vectors;
    }

    /** Where the recipe form of {@link #trainOrLoad(String, java.util.function.Supplier, Params, Path, Listener)} keeps its vectors. */
    public static Path cacheFile(String recipe, Params params, Path cacheDirectory) {
        return cacheDirectory.resolve("word2vec-" + sha256("recipe\0" + recipe + "\0" + params) + ".bin");
    }

    /** A short hex SHA-256 of some text (the first 24 hex digits: plenty to tell cache files apart). */
    public static String sha256(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, 24);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    /** Where {@link #trainOrLoad} keeps these vectors: named by a hash of the tokens and the parameters. */
    public static Path cacheFile(List<String> tokens, Params params, Path cacheDirectory) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String token : tokens) {
                sha.update(token.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            sha.update(params.toString().getBytes(StandardCharsets.UTF_8));
            return cacheDirectory.resolve("word2vec-" + HexFormat.of().formatHex(sha.digest()).substring(0, 24) + ".bin");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    /**
     * The playground's own cache folder: {@code $TRANSFORMER_PLAYGROUND_CACHE} if set, else
     * {@code $XDG_CACHE_HOME/transformer-playground}, else {@code ~/.cache/transformer-playground}.
     */
    public static Path defaultCacheDirectory() {
        String own = System.getenv("TRANSFORMER_PLAYGROUND_CACHE");
        if (own != null && !own.isBlank()) return Path.of(own);
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) return Path.of(xdg, "transformer-playground");
        return Path.of(System.getProperty("user.home"), ".cache", "transformer-playground");
    }

    // ---------------------------------------------------------------------------------------------

    /** The learning rate after {@code done} of {@code total} tokens: linear decay, floored at 1/10000 of the start. */
    private static float learningRate(Params p, long done, long total) {
        return Math.max(p.learningRate() * (1 - (float) done / total), p.learningRate() * 1e-4f);
    }

    /** The inner loop: stochastic gradient descent over a stretch of the (sub-sampled) text. */
    private static final class Trainer {
        final float[] input, output, gradient;
        final NoiseDistribution noise;
        final Params p;
        final SplittableRandom random;
        double loss;
        long predictions;

        Trainer(float[] input, float[] output, NoiseDistribution noise, Params p, SplittableRandom random) {
            this.input = input;
            this.output = output;
            this.noise = noise;
            this.p = p;
            this.random = random;
            this.gradient = new float[p.dimensions()];
        }

        /** Trains on kept[from, to), the learning rate going from lrFrom to lrTo. */
        void train(int[] kept, int from, int to, float lrFrom, float lrTo) {
            int dims = p.dimensions(), n = kept.length;
            for (int pos = from; pos < to; pos++) {
                float lr = lrFrom + (lrTo - lrFrom) * (pos - from) / Math.max(1, to - from);
                int word = kept[pos];
                int reach = 1 + random.nextInt(p.window()); // a random window size, so near words count more
                for (int c = Math.max(0, pos - reach); c <= Math.min(n - 1, pos + reach); c++) {
                    if (c == pos) continue;
                    int in = kept[c] * dims;
                    Arrays.fill(gradient, 0f);
                    for (int k = 0; k <= p.negatives(); k++) {
                        int target = k == 0 ? word : noise.draw(random);
                        if (k > 0 && target == word) continue;
                        float label = k == 0 ? 1f : 0f;
                        int out = target * dims;
                        float f = dot(input, in, output, out, dims);
                        // Beyond ±8, σ is 0 or 1 to float precision anyway.
                        int at = f >= MAX_EXP ? TABLE : f <= -MAX_EXP ? 0 : (int) ((f + MAX_EXP) * (TABLE / (2 * MAX_EXP)) + 0.5f);
                        loss += k == 0 ? MINUS_LOG_SIGMOID[at] : MINUS_LOG_SIGMOID[TABLE - at]; // −log(1−σ(x)) = −log σ(−x)
                        predictions++;
                        update((label - SIGMOID[at]) * lr, gradient, output, out, input, in, dims);
                    }
                    addTo(input, in, gradient, dims);
                }
            }
        }
    }

    private static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length())
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += a[aOff + i] * b[bOff + i];
        return sum;
    }

    /** gradient += g · output_row, then output_row += g · input_row (the gradient takes the row's old value). */
    private static void update(float g, float[] gradient, float[] output, int out, float[] input, int in, int n) {
        FloatVector gv = FloatVector.broadcast(F, g);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector o = FloatVector.fromArray(F, output, out + i);
            o.fma(gv, FloatVector.fromArray(F, gradient, i)).intoArray(gradient, i);
            FloatVector.fromArray(F, input, in + i).fma(gv, o).intoArray(output, out + i);
        }
        for (; i < n; i++) {
            float o = output[out + i];
            gradient[i] += g * o;
            output[out + i] = o + g * input[in + i];
        }
    }

    private static void addTo(float[] row, int off, float[] delta, int n) {
        for (int i = 0; i < n; i++) row[off + i] += delta[i];
    }

    /**
     * Subtracts the mean vector from every word's vector. Trained on a small text, all vectors share
     * one large common direction (every word is pulled towards the contexts of the frequent words),
     * which makes every cosine look high; without it, what tells words apart remains (Mu and
     * Viswanath 2018, "All-but-the-Top").
     */
    static void center(float[] vectors, int dims) {
        int n = vectors.length / dims;
        double[] mean = new double[dims];
        for (int i = 0; i < n; i++) for (int d = 0; d < dims; d++) mean[d] += vectors[i * dims + d];
        for (int d = 0; d < dims; d++) mean[d] /= n;
        for (int i = 0; i < n; i++) for (int d = 0; d < dims; d++) vectors[i * dims + d] -= (float) mean[d];
    }

    /**
     * Sub-sampling of frequent words (the paper's code): a word making up a share f of the text is
     * kept with probability (√(f/t) + 1) · t/f, so "the" and "and" are mostly dropped and rare words
     * always kept. A new draw every epoch.
     */
    private static int[] subsample(int[] stream, long[] counts, double sample, SplittableRandom random) {
        if (sample == 0) return stream;
        long total = 0;
        for (long c : counts) total += c;
        double threshold = sample * total;
        int[] kept = new int[stream.length];
        int n = 0;
        for (int id : stream) {
            double keep = (Math.sqrt(counts[id] / threshold) + 1) * threshold / counts[id];
            if (keep >= 1 || random.nextDouble() < keep) kept[n++] = id;
        }
        return Arrays.copyOf(kept, n);
    }

    /**
     * Negative samples are drawn from counts^0.75 (rare words more often than their share, frequent
     * ones less), with Walker's alias method: one table slot per word, so drawing stays in the cache.
     */
    private record NoiseDistribution(float[] probability, int[] alias) {
        static NoiseDistribution of(long[] counts) {
            int n = counts.length;
            double[] scaled = new double[n];
            double norm = 0;
            for (long c : counts) norm += Math.pow(c, 0.75);
            for (int i = 0; i < n; i++) scaled[i] = Math.pow(counts[i], 0.75) / norm * n;
            float[] probability = new float[n];
            int[] alias = new int[n];
            int[] small = new int[n], large = new int[n];
            int ns = 0, nl = 0;
            for (int i = 0; i < n; i++) if (scaled[i] < 1) small[ns++] = i; else large[nl++] = i;
            while (ns > 0 && nl > 0) {
                int s = small[--ns], l = large[--nl];
                probability[s] = (float) scaled[s];
                alias[s] = l;
                scaled[l] -= 1 - scaled[s];
                if (scaled[l] < 1) small[ns++] = l; else large[nl++] = l;
            }
            while (nl > 0) { int l = large[--nl]; probability[l] = 1f; alias[l] = l; }
            while (ns > 0) { int s = small[--ns]; probability[s] = 1f; alias[s] = s; } // rounding leftovers
            return new NoiseDistribution(probability, alias);
        }

        int draw(SplittableRandom random) {
            int i = random.nextInt(probability.length);
            return random.nextFloat() < probability[i] ? i : alias[i];
        }
    }

    /** Words seen at least minCount times, most frequent first (ties in alphabetical order). */
    private record Vocabulary(List<String> words, long[] counts, Map<String, Integer> index) {
        static Vocabulary of(List<String> tokens, int minCount) {
            Map<String, Long> counted = new HashMap<>();
            for (String t : tokens) counted.merge(t, 1L, Long::sum);
            List<Map.Entry<String, Long>> entries = new ArrayList<>();
            for (var e : counted.entrySet()) if (e.getValue() >= minCount) entries.add(e);
            entries.sort((a, b) -> !a.getValue().equals(b.getValue()) ? Long.compare(b.getValue(), a.getValue()) : a.getKey().compareTo(b.getKey()));
            List<String> words = new ArrayList<>(entries.size());
            long[] counts = new long[entries.size()];
            Map<String, Integer> index = new HashMap<>();
            for (int i = 0; i < entries.size(); i++) {
                words.add(entries.get(i).getKey());
                counts[i] = entries.get(i).getValue();
                index.put(entries.get(i).getKey(), i);
            }
            return new Vocabulary(words, counts, index);
        }

        int size() {
            return words.size();
        }

        /** The text as vocabulary ids; words below the minimum count are dropped, as in the paper's code. */
        int[] ids(List<String> tokens) {
            int[] ids = new int[tokens.size()];
            int n = 0;
            for (String t : tokens) {
                Integer id = index.get(t);
                if (id != null) ids[n++] = id;
            }
            return Arrays.copyOf(ids, n);
        }
    }
}
