//DEPS com.knuddels:jtokkit:1.1.0
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.EncodingType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import llm.Tokenizer;
import llm.TokenizerException;
import llm.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The shipped tokenizers against the course notebook's printed output, and the two byte-level BPE
 * tokenizers against an independent implementation (jtokkit's tiktoken encodings).
 */
class TokenizersTest {

    static final String COURSE_TEXT = "\nEnglish and CAPITALIZATION\n🎵 鸟\nshow_tokens False None elif == >= else: two tabs:\"    \" Three tabs: \"       \"\n12.0*50=600\n";

    static Tokenizer shipped(String id) {
        return Tokenizers.load(id);
    }

    /** The notebook prints tokens separated by spaces, so it shows each token without its surrounding blanks. */
    static List<String> asPrinted(Tokenizer tokenizer, String text) {
        return tokenizer.tokens(tokenizer.encode(text)).stream().map(String::strip).filter(t -> !t.isEmpty()).toList();
    }

    @ParameterizedTest
    @CsvSource({"bert-base-cased,28996", "bert-base-uncased,30522", "Xenova/gpt-4,100263", "gpt2,50257",
            "google/flan-t5-small,32100", "microsoft/Phi-3-mini-4k-instruct,32011"})
    void vocabularyLengthCountsAddedTokensLikeLenOfTheTokenizer(String id, int expected) {
        try (Tokenizer tokenizer = shipped(id)) {
            assertEquals(expected, tokenizer.vocabularyLength());
            assertEquals(Tokenizer.Source.SHIPPED, tokenizer.source());
        }
    }

    @Test
    void helloWorldWithBertBaseCased() {
        try (Tokenizer bert = shipped("bert-base-cased")) {
            long[] ids = bert.encode("Hello World!");
            assertArrayEquals(new long[] {101, 8667, 1291, 106, 102}, ids);
            assertEquals(List.of("[CLS]", "Hello", "World", "!", "[SEP]"), bert.tokens(ids));
        }
    }

    @Test
    void bertBaseCasedSplitsTheCourseTextAsTheNotebookShows() {
        try (Tokenizer bert = shipped("bert-base-cased")) {
            assertEquals(List.of(("[CLS] English and CA ##PI ##TA ##L ##I ##Z ##AT ##ION [UNK] [UNK] show _ token ##s F ##als ##e None el ##if"
                    + " = = > = else : two ta ##bs : \" \" Three ta ##bs : \" \" 12 . 0 * 50 = 600 [SEP]").split(" ")),
                    bert.tokens(bert.encode(COURSE_TEXT)));
        }
    }

    @Test
    void gpt2SplitsTheCourseTextAsTheNotebookShows() {
        try (Tokenizer gpt2 = shipped("gpt2")) {
            assertEquals(List.of("\n", "English", " and", " CAP", "ITAL", "IZ", "ATION", "\n", "�", "�", "�", " �", "�", "�", "\n",
                    "show", "_", "t", "ok", "ens", " False", " None", " el", "if", " ==", " >=", " else", ":", " two", " tabs", ":\"",
                    " ", " ", " ", " \"", " Three", " tabs", ":", " \"", " ", " ", " ", " ", " ", " ", " \"", "\n",
                    "12", ".", "0", "*", "50", "=", "600", "\n"), gpt2.tokens(gpt2.encode(COURSE_TEXT)));
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "bert-base-uncased|[CLS] english and capital ##ization [UNK] [UNK] show _ token ##s false none eli ##f = = > = else : two tab ##s : \" \" three tab ##s : \" \" 12 . 0 * 50 = 600 [SEP]",
            "Xenova/gpt-4|English and CAPITAL IZATION � � � � � � show _tokens False None elif == >= else : two tabs :\" \" Three tabs : \" \" 12 . 0 * 50 = 600",
            "google/flan-t5-small|English and CA PI TAL IZ ATION <unk> <unk> show _ to ken s Fal s e None e l if = = > = else : two tab s : \" \" Three tab s : \" \" 12. 0 * 50 = 600 </s>",
            "microsoft/Phi-3-mini-4k-instruct|English and C AP IT AL IZ ATION � � � � � � � show _ to kens False None elif == >= else : two tabs :\" \" Three tabs : \" \" 1 2 . 0 * 5 0 = 6 0 0"})
    void theOtherShippedTokenizersMatchTheNotebook(String id, String printed) {
        try (Tokenizer tokenizer = shipped(id)) {
            assertEquals(List.of(printed.split(" ")), asPrinted(tokenizer, COURSE_TEXT));
        }
    }

    @Test
    void phi3TokenizesTheCapitalOfFranceWithoutBos() {
        try (Tokenizer phi3 = shipped("microsoft/Phi-3-mini-4k-instruct")) {
            assertArrayEquals(new long[] {450, 7483, 310, 3444, 338}, phi3.encode("The capital of France is"));
        }
    }

    @ParameterizedTest
    @CsvSource({"gpt2,R50K_BASE", "Xenova/gpt-4,CL100K_BASE"})
    void byteLevelBpeIdsEqualTiktokensEncodings(String id, EncodingType encoding) {
        var tiktoken = Encodings.newDefaultEncodingRegistry().getEncoding(encoding);
        String[] texts = {COURSE_TEXT, "Hello World!", "The capital of France is", "    def f(x):\n\treturn x ** 2  # ok",
                "naïve café – “quotes” 12345678 🤖🤖"};
        try (Tokenizer tokenizer = shipped(id)) {
            for (String text : texts) {
                long[] expected = tiktoken.encodeOrdinary(text).toArray().length == 0 ? new long[0]
                        : Arrays.stream(tiktoken.encodeOrdinary(text).toArray()).asLongStream().toArray();
                assertArrayEquals(expected, tokenizer.encode(text), text);
            }
        }
    }

    @Test
    void longTextsAreNotTruncated() {
        try (Tokenizer bert = shipped("bert-base-uncased")) {
            assertEquals(2000 + 2, bert.encode("word ".repeat(2000)).length);
        }
    }

    @Test
    void aLocalTokenizerJsonCanBeGivenByPath(@TempDir Path dir) throws Exception {
        Path file = Files.write(dir.resolve("tokenizer.json"), support.Repo.shippedTokenizerJson("gpt2"));
        try (Tokenizer gpt2 = Tokenizers.load(file.toString())) {
            assertEquals(Tokenizer.Source.PATH, gpt2.source());
            assertArrayEquals(new long[] {15496, 2159, 0}, gpt2.encode("Hello World!"));
        }
        try (Tokenizer fromFolder = Tokenizers.load(file.getParent().toString())) {
            assertEquals(50257, fromFolder.vocabularyLength());
        }
    }

    @Test
    void brokenTokenizerFilesAreRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        byte[] real = support.Repo.shippedTokenizerJson("gpt2");
        Path truncated = dir.resolve("truncated.json");
        Files.write(truncated, Arrays.copyOf(real, real.length / 2));
        Path notJson = dir.resolve("garbage.json");
        Files.writeString(notJson, "this is not json");
        Path noVocab = dir.resolve("novocab.json");
        Files.writeString(noVocab, "{\"model\": {\"type\": \"BPE\"}}", StandardCharsets.UTF_8);
        Path missing = dir.resolve("missing.json");
        for (Path bad : List.of(truncated, notJson, noVocab, missing)) {
            TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizers.load(bad.toString()).close());
            assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }

    /** The shipped files are gzipped; what they unpack to is byte for byte the file NOTICE.md records. */
    @ParameterizedTest
    @CsvSource({"bert-base-cased", "bert-base-uncased", "Xenova--gpt-4", "gpt2", "google--flan-t5-small", "microsoft--Phi-3-mini-4k-instruct"})
    void shippedFilesUnpackToTheBytesTheNoticeRecords(String folder) throws Exception {
        byte[] json = support.Repo.shippedTokenizerJson(folder);
        String sha256 = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(json));
        String id = folder.replace("--", "/");
        String row = "| " + id + " | tokenizer.json | " + json.length + " | " + sha256 + " |";
        String notice = Files.readString(support.Repo.root().resolve("lib/llm/tokenizers/NOTICE.md"));
        assertTrue(notice.contains(row), "NOTICE.md has no row " + row);
    }
}
