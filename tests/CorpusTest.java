import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import llm.Corpus;
import llm.CorpusException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusTest {

    @Test
    void theShippedCorpusIsTinyShakespeareByteForByte() throws Exception {
        Corpus corpus = Corpus.tinyShakespeare();
        assertEquals(1_115_394, corpus.text().length());
        byte[] bytes = corpus.text().getBytes(StandardCharsets.UTF_8);
        // The sha256 recorded in lib/llm/corpora/NOTICE.md (karpathy/char-rnn's input.txt).
        assertEquals("86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
        assertTrue(corpus.text().startsWith("First Citizen:\nBefore we proceed any further, hear me speak."));
        assertEquals("First Citizen:\nBefore we proceed any further, hear me speak.", corpus.paragraphs().getFirst());
        assertEquals(List.of("first", "citizen", "before", "we", "proceed"), corpus.words().subList(0, 5));
    }

    @Test
    void wordsAreLowerCaseRunsOfLettersWithInnerApostrophes() {
        assertEquals(List.of("we", "know't", "we", "know't"), Corpus.words("We know't, we know't."));
        assertEquals(List.of("that", "is", "a", "cute", "dog"), Corpus.words("That is a cute dog!"));
        assertEquals(List.of("o'er", "the", "12", "hills"), Corpus.words("  'O'er the 12 hills' "));
        assertEquals(List.of(), Corpus.words(" ,.; "));
    }

    @Test
    void paragraphsAreSeparatedByBlankLines() {
        assertEquals(List.of("a\nb", "c", "d"), Corpus.of("t", "a\nb\n\n c \n \n\n\nd\n").paragraphs());
    }

    @Test
    void aLearnersFileAndItsErrors(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("mine.txt"), "Hello there.\n\nGeneral Kenobi.");
        Corpus mine = Corpus.read(file);
        assertEquals("mine.txt", mine.name());
        assertEquals(List.of("hello", "there", "general", "kenobi"), mine.words());

        assertEquals(dir.resolve("nope.txt") + ": no such file",
                assertThrows(CorpusException.class, () -> Corpus.read(dir.resolve("nope.txt"))).getMessage());
        assertEquals(dir + ": is a folder, not a text file", assertThrows(CorpusException.class, () -> Corpus.read(dir)).getMessage());
        Path binary = Files.write(dir.resolve("bin"), new byte[] {(byte) 0xC3, 0x28});
        assertEquals(binary + ": is not UTF-8 text", assertThrows(CorpusException.class, () -> Corpus.read(binary)).getMessage());
        Path empty = Files.writeString(dir.resolve("empty.txt"), " ...\n");
        assertEquals(empty + ": has no words in it", assertThrows(CorpusException.class, () -> Corpus.read(empty)).getMessage());
    }
}
