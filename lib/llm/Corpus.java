//FILES llm/corpora/tinyshakespeare.txt=corpora/tinyshakespeare.txt
//SOURCES CorpusException.java
package llm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real text for the lessons that build something small from data: the shipped "tiny Shakespeare"
 * (see corpora/NOTICE.md), or a UTF-8 file the learner passes. Also the two ways the lessons cut
 * text: into lower-case words, and into paragraphs (blank-line separated, in tiny Shakespeare one
 * speech each).
 */
public final class Corpus {

    /** Where the shipped corpus sits on the class path (JBang's //FILES puts it into the jar). */
    public static final String TINY_SHAKESPEARE = "corpora/tinyshakespeare.txt";

    /** A word: letters and digits, with apostrophes inside ("know't", "o'er") kept. */
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+(?:'[\\p{L}\\p{N}]+)*");

    private final String name;
    private final String text;

    private Corpus(String name, String text) {
        this.name = name;
        this.text = text;
    }

    /** The shipped tiny Shakespeare text (1,115,394 characters). */
    public static Corpus tinyShakespeare() {
        try (InputStream in = Corpus.class.getResourceAsStream(TINY_SHAKESPEARE)) {
            if (in == null) throw new CorpusException("the shipped corpus llm/" + TINY_SHAKESPEARE + " is not on the class path");
            return new Corpus("tiny Shakespeare", decode(in.readAllBytes(), "llm/" + TINY_SHAKESPEARE));
        } catch (IOException e) {
            throw new CorpusException("cannot read the shipped corpus llm/" + TINY_SHAKESPEARE + ": " + e.getMessage());
        }
    }

    /** A UTF-8 text file of the learner's own. */
    public static Corpus read(Path file) {
        try {
            if (Files.isDirectory(file)) throw new CorpusException(file + ": is a folder, not a text file");
            String text = decode(Files.readAllBytes(file), file.toString());
            if (words(text).isEmpty()) throw new CorpusException(file + ": has no words in it");
            return new Corpus(file.getFileName().toString(), text);
        } catch (NoSuchFileException e) {
            throw new CorpusException(file + ": no such file");
        } catch (IOException e) {
            throw new CorpusException(file + ": cannot be read (" + e.getMessage() + ")");
        } catch (OutOfMemoryError e) {
            throw new CorpusException(file + ": too large to read into memory");
        }
    }

    /** For tests and for text given on the command line. */
    public static Corpus of(String name, String text) {
        return new Corpus(name, text);
    }

    public String name() {
        return name;
    }

    public String text() {
        return text;
    }

    /** The corpus as lower-case words, in order. */
    public List<String> words() {
        return words(text);
    }

    /** The paragraphs (blank-line separated, trimmed, none empty). */
    public List<String> paragraphs() {
        List<String> paragraphs = new ArrayList<>();
        for (String paragraph : text.split("\\R\\s*\\R")) {
            String trimmed = paragraph.strip();
            if (!trimmed.isEmpty()) paragraphs.add(trimmed);
        }
        return paragraphs;
    }

    /**
     * Lower-case words of {@code text}: runs of letters and digits; punctuation and spaces separate
     * them. The simplest tokenizer there is, the one bag-of-words and word2vec started with.
     */
    public static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        Matcher m = WORD.matcher(text);
        while (m.find()) words.add(m.group().toLowerCase(Locale.ROOT));
        return words;
    }

    private static String decode(byte[] bytes, String where) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CorpusException(where + ": is not UTF-8 text");
        }
    }
}
