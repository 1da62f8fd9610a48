//DEPS ai.djl.huggingface:tokenizers:0.38.0
//DEPS com.google.code.gson:gson:2.13.1
//DEPS org.slf4j:slf4j-nop:2.0.17
//RUNTIME_OPTIONS --enable-native-access=ALL-UNNAMED
//SOURCES TokenizerException.java
package llm;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * A Hugging Face tokenizer (a {@code tokenizer.json}), run by the Rust {@code tokenizers} library
 * through DJL: the same code that Python's {@code AutoTokenizer} runs, so ids and pieces match.
 */
public final class Tokenizer implements AutoCloseable {

    /** Where a tokenizer came from. */
    public enum Source { PATH, SHIPPED, CACHE, HUB }

    private final String name;
    private final Source source;
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabularyLength;

    private Tokenizer(String name, Source source, HuggingFaceTokenizer tokenizer, int vocabularyLength) {
        this.name = name;
        this.source = source;
        this.tokenizer = tokenizer;
        this.vocabularyLength = vocabularyLength;
    }

    /**
     * Reads a tokenizer from the bytes of its tokenizer.json. {@code where} names the file in
     * error messages. No truncation and no padding: every token of the text is kept.
     */
    public static Tokenizer fromJson(String name, Source source, byte[] json, String where) {
        String text = new String(json, StandardCharsets.UTF_8);
        int vocabularyLength = vocabularyLength(text, where);
        try {
            HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json),
                    Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"));
            return new Tokenizer(name, source, tokenizer, vocabularyLength);
        } catch (IOException | RuntimeException e) {
            throw new TokenizerException(where + ": not a usable tokenizer.json (" + reason(e) + ")");
        }
    }

    /** The id or path this tokenizer was asked for by. */
    public String name() {
        return name;
    }

    public Source source() {
        return source;
    }

    /** How many distinct ids the tokenizer knows, added tokens included: Python's {@code len(tokenizer)}. */
    public int vocabularyLength() {
        return vocabularyLength;
    }

    /** Token ids of {@code text}, with the special tokens the tokenizer adds (e.g. [CLS] ... [SEP]). */
    public long[] encode(String text) {
        return encode(text, true);
    }

    public long[] encode(String text, boolean addSpecialTokens) {
        return tokenizer.encode(text, addSpecialTokens, false).getIds();
    }

    /** The text of a sequence of ids, special tokens kept. */
    public String decode(long[] ids) {
        return tokenizer.decode(ids, false);
    }

    /**
     * Each id decoded on its own, as the course notebook shows tokens. An id that holds only part
     * of a UTF-8 character decodes to {@code �}.
     */
    public List<String> tokens(long[] ids) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (long id : ids) tokens.add(tokenizer.decode(new long[] {id}, false));
        return tokens;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    /**
     * Counts the distinct ids of the model's vocabulary and of the added tokens (sorted, not a BitSet: one id
     * of 2^31 - 1 in a hostile file would make that 256 MB), and checks the JSON the native library cannot
     * refuse safely: strict JSON (no raw control characters in strings), and a sound decoder (see checkDecoder).
     */
    private static int vocabularyLength(String json, String where) {
        IntStream.Builder ids = IntStream.builder();
        try (JsonReader reader = new JsonReader(new StringReader(json))) {
            reader.setStrictness(Strictness.STRICT);
            reader.beginObject();
            while (reader.hasNext()) {
                switch (reader.nextName()) {
                    case "model" -> readModelVocabulary(reader, ids, where);
                    case "added_tokens" -> {
                        reader.beginArray();
                        while (reader.hasNext()) {
                            reader.beginObject();
                            while (reader.hasNext()) {
                                if (reader.nextName().equals("id")) ids.add(id(reader.nextInt(), where));
                                else reader.skipValue();
                            }
                            reader.endObject();
                        }
                        reader.endArray();
                    }
                    case "decoder" -> checkDecoder(reader, 1, where);
                    default -> reader.skipValue();
                }
            }
            reader.endObject();
        } catch (IOException | JsonParseException | IllegalStateException | NumberFormatException e) {
            throw new TokenizerException(where + ": not a valid tokenizer.json (" + reason(e) + ")");
        }
        int[] sorted = ids.build().sorted().toArray();
        if (sorted.length == 0) throw new TokenizerException(where + ": not a valid tokenizer.json (no vocabulary)");
        int distinct = 1;
        for (int i = 1; i < sorted.length; i++) if (sorted[i] != sorted[i - 1]) distinct++;
        return distinct;
    }

    /**
     * The Rust tokenizers library in DJL 0.38 (tokenizers 0.21) does not fail but aborts the whole JVM when the
     * decoder holds JSON its parser (serde_json) rejects and Gson accepts: a lone UTF-16 surrogate escape, a
     * number beyond a double, nesting deeper than serde_json's limit of 128. So those are refused here first.
     */
    private static void checkDecoder(JsonReader reader, int depth, String where) throws IOException {
        if (depth > 100) throw new TokenizerException(where + ": not a valid tokenizer.json (decoder nested more than 100 deep)");
        switch (reader.peek()) {
            case BEGIN_OBJECT -> {
                reader.beginObject();
                while (reader.hasNext()) {
                    checkSurrogates(reader.nextName(), where);
                    checkDecoder(reader, depth + 1, where);
                }
                reader.endObject();
            }
            case BEGIN_ARRAY -> {
                reader.beginArray();
                while (reader.hasNext()) checkDecoder(reader, depth + 1, where);
                reader.endArray();
            }
            case STRING -> checkSurrogates(reader.nextString(), where);
            case NUMBER -> {
                String number = reader.nextString();
                if (Double.isInfinite(Double.parseDouble(number)))
                    throw new TokenizerException(where + ": not a valid tokenizer.json (decoder: number "
                            + (number.length() > 24 ? number.substring(0, 21) + "..." : number) + " is out of range)");
            }
            default -> reader.skipValue(); // true, false, null
        }
    }

    private static void checkSurrogates(String text, String where) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new TokenizerException(String.format("%s: not a valid tokenizer.json (decoder: a lone surrogate \\u%04X in a string)",
                        where, (int) c));
            }
        }
    }

    private static int id(int id, String where) {
        if (id < 0) throw new TokenizerException(where + ": not a valid tokenizer.json (negative token id " + id + ")");
        return id;
    }

    /** WordPiece and BPE keep {"piece": id}; Unigram keeps [["piece", score], ...] in id order. */
    private static void readModelVocabulary(JsonReader reader, IntStream.Builder ids, String where) throws IOException {
        reader.beginObject();
        while (reader.hasNext()) {
            if (!reader.nextName().equals("vocab")) {
                reader.skipValue();
            } else if (reader.peek() == JsonToken.BEGIN_OBJECT) {
                reader.beginObject();
                while (reader.hasNext()) {
                    reader.nextName();
                    ids.add(id(reader.nextInt(), where));
                }
                reader.endObject();
            } else {
                reader.beginArray();
                for (int id = 0; reader.hasNext(); id++) {
                    reader.skipValue();
                    ids.add(id);
                }
                reader.endArray();
            }
        }
        reader.endObject();
    }

    /**
     * The parser's reason, fit for a one-line message: its first line, without Gson's advice to developers,
     * control characters (a hostile file's token text) as escapes, at most 160 characters.
     */
    private static String reason(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        message = message.lines().findFirst().orElse(message)
                .replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
        StringBuilder sb = new StringBuilder();
        for (char c : message.toCharArray()) {
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') sb.append(String.format("\\u%04X", (int) c));
            else sb.append(c);
        }
        return sb.length() <= 160 ? sb.toString() : sb.substring(0, 157) + "...";
    }
}
