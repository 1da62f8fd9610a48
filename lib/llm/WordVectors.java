//SOURCES Vectors.java
//SOURCES CorpusException.java
package llm;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Static word embeddings: one vector per vocabulary word, whatever its context (what word2vec
 * learns). Similarity is the cosine; nearest neighbours and analogies search the whole vocabulary.
 */
public final class WordVectors {

    private static final int MAGIC = 0x57325631; // "W2V1"

    private final List<String> words;
    private final long[] counts;
    private final int dimensions;
    private final float[] vectors;   // row i = words[i]
    private final float[] unit;      // the same rows scaled to length 1, for cosine search
    private final Map<String, Integer> index = new HashMap<>();

    /** Words (most frequent first, as trained), their corpus counts, and a flat words × dimensions matrix. */
    public WordVectors(List<String> words, long[] counts, int dimensions, float[] vectors) {
        if (counts.length != words.size() || vectors.length != (long) words.size() * dimensions)
            throw new IllegalArgumentException("word vectors: " + words.size() + " words, " + counts.length
                    + " counts and " + vectors.length + " floats do not fit " + dimensions + " dimensions");
        this.words = Collections.unmodifiableList(new ArrayList<>(words));
        this.counts = counts.clone();
        this.dimensions = dimensions;
        this.vectors = vectors;
        this.unit = new float[vectors.length];
        for (int i = 0; i < words.size(); i++) {
            if (index.putIfAbsent(words.get(i), i) != null) throw new IllegalArgumentException("word vectors: \"" + words.get(i) + "\" twice");
            double sum = 0;
            for (int d = 0; d < dimensions; d++) sum += (double) vectors[i * dimensions + d] * vectors[i * dimensions + d];
            float inv = sum == 0 ? 0f : (float) (1 / Math.sqrt(sum));
            for (int d = 0; d < dimensions; d++) unit[i * dimensions + d] = vectors[i * dimensions + d] * inv;
        }
    }

    public int size() {
        return words.size();
    }

    public int dimensions() {
        return dimensions;
    }

    /** The vocabulary, most frequent first. */
    public List<String> words() {
        return words;
    }

    public boolean contains(String word) {
        return index.containsKey(word);
    }

    /** How often the word occurred in the training text (0 if it is not in the vocabulary). */
    public long count(String word) {
        Integer i = index.get(word);
        return i == null ? 0 : counts[i];
    }

    /** A copy of the word's vector. */
    public float[] vector(String word) {
        int i = indexOf(word);
        float[] v = new float[dimensions];
        System.arraycopy(vectors, i * dimensions, v, 0, dimensions);
        return v;
    }

    /** Cosine similarity of two vocabulary words. */
    public float similarity(String a, String b) {
        int i = indexOf(a), j = indexOf(b);
        float dot = 0;
        for (int d = 0; d < dimensions; d++) dot += unit[i * dimensions + d] * unit[j * dimensions + d];
        return dot;
    }

    /** A word and how similar it is to what was searched for. */
    public record Neighbour(String word, float similarity) {}

    /** The k words whose vectors are most similar (cosine) to {@code v}, leaving out {@code exclude}. */
    public List<Neighbour> nearest(float[] v, int k, Collection<String> exclude) {
        if (v.length != dimensions) throw new IllegalArgumentException("a " + v.length + "-dimensional vector searched among " + dimensions + "-dimensional ones");
        float[] q = Vectors.normalized(v);
        Set<Integer> skip = new HashSet<>();
        for (String word : exclude) if (index.containsKey(word)) skip.add(index.get(word));
        List<Neighbour> best = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            if (skip.contains(i)) continue;
            float s = 0;
            for (int d = 0; d < dimensions; d++) s += q[d] * unit[i * dimensions + d];
            if (best.size() < k || s > best.getLast().similarity()) {
                Neighbour n = new Neighbour(words.get(i), s);
                int at = best.size();
                while (at > 0 && best.get(at - 1).similarity() < s) at--;
                best.add(at, n);
                if (best.size() > k) best.removeLast();
            }
        }
        return best;
    }

    /** The k nearest neighbours of a vocabulary word (the word itself left out). */
    public List<Neighbour> nearest(String word, int k) {
        return nearest(vector(word), k, List.of(word));
    }

    /**
     * "a is to b as c is to ?": the words nearest to b − a + c (each taken at length 1, as in
     * Mikolov et al. 2013), leaving out the three question words.
     */
    public List<Neighbour> analogy(String a, String b, String c, int k) {
        float[] target = new float[dimensions];
        int ia = indexOf(a), ib = indexOf(b), ic = indexOf(c);
        for (int d = 0; d < dimensions; d++)
            target[d] = unit[ib * dimensions + d] - unit[ia * dimensions + d] + unit[ic * dimensions + d];
        return nearest(target, k, List.of(a, b, c));
    }

    /** Writes the vectors to {@code file} (through a temporary file, so a reader never sees half a file). */
    public void save(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16))) {
                out.writeInt(MAGIC);
                out.writeInt(words.size());
                out.writeInt(dimensions);
                for (int i = 0; i < words.size(); i++) {
                    out.writeUTF(words.get(i));
                    out.writeLong(counts[i]);
                }
                for (float x : vectors) out.writeFloat(x);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Reads vectors written by {@link #save}; a file that is not one gives a one-line {@link CorpusException}. */
    public static WordVectors load(Path file) {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            if (in.readInt() != MAGIC) throw new CorpusException(file + ": not a word-vector file of ours");
            int n = in.readInt(), dims = in.readInt();
            if (n <= 0 || dims <= 0 || (long) n * dims > Files.size(file) / 4)
                throw new CorpusException(file + ": damaged word-vector file (" + n + " words of " + dims + " dimensions)");
            List<String> words = new ArrayList<>(n);
            long[] counts = new long[n];
            for (int i = 0; i < n; i++) {
                words.add(in.readUTF());
                counts[i] = in.readLong();
            }
            float[] vectors = new float[n * dims];
            for (int i = 0; i < vectors.length; i++) vectors[i] = in.readFloat();
            if (in.read() != -1) throw new CorpusException(file + ": damaged word-vector file (extra bytes at the end)");
            return new WordVectors(words, counts, dims, vectors);
        } catch (EOFException e) {
            throw new CorpusException(file + ": damaged word-vector file (cut short)");
        } catch (IOException e) {
            throw new CorpusException(file + ": cannot be read (" + e.getMessage() + ")");
        } catch (IllegalArgumentException e) {
            throw new CorpusException(file + ": damaged word-vector file (" + e.getMessage() + ")");
        }
    }

    private int indexOf(String word) {
        Integer i = index.get(word);
        if (i == null) throw new IllegalArgumentException("\"" + word + "\" is not in the vocabulary");
        return i;
    }
}
