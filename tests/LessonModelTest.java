import static org.junit.jupiter.api.Assertions.*;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import llm.Hub;
import llm.HubException;
import llm.LessonModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import support.TestModels;
import support.TestModels.Variant;

/** How a lesson finds its optional model: the learner's --model, else the Hugging Face cache, never a download. */
class LessonModelTest {

    @TempDir
    Path dir;

    /** A Hub whose endpoint nothing listens on: any download attempt would fail (and offline forbids it anyway). */
    Hub hub(Path cache) {
        return new Hub(cache, URI.create("http://127.0.0.1:9"), null, true);
    }

    @Test
    void withoutModelAndWithAnEmptyCacheThereIsNone() {
        assertEquals(Optional.empty(), LessonModel.open(null, hub(dir.resolve("hub")), null));
    }

    @Test
    void withoutModelPhi3MiniIsTakenFromTheCache() throws Exception {
        Path cache = dir.resolve("hub");
        Path repo = cache.resolve("models--microsoft--Phi-3-mini-4k-instruct-gguf");
        String commit = "0123456789abcdef0123456789abcdef01234567";
        Files.createDirectories(repo.resolve("snapshots").resolve(commit));
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), commit);
        TestModels.builder(Variant.F32).write(repo.resolve("snapshots").resolve(commit).resolve("Phi-3-mini-4k-instruct-q4.gguf"));

        try (LessonModel lm = LessonModel.open(null, hub(cache), null).orElseThrow()) {
            assertEquals("Phi-3-mini-4k-instruct-q4.gguf", lm.file().getFileName().toString());
            assertEquals(64, lm.model().config().embeddingLength());
            // the file asks for <s> first (tokenizer.ggml.add_bos_token); then the shipped tokenizer's ids
            assertArrayEquals(new int[] {1, 450, 7483, 310, 3444, 338}, lm.promptIds("The capital of France is"));
            assertEquals("capital", lm.text(7483));
        }
    }

    @Test
    void aTestFileWithPhi3sVocabularySizeBehavesLikeTheSmallOneOnTheSmallIds() {
        int[] prompt = {1, 300, 301, 415, 77, 350};
        try (llm.Phi3 small = llm.Phi3.load(TestModels.builder(Variant.F32).write(dir.resolve("small.gguf")));
             llm.Phi3 large = llm.Phi3.load(TestModels.builder(Variant.F32).vocab(32064).write(dir.resolve("large.gguf")))) {
            assertEquals(32064, large.config().vocabSize());
            float[] a = small.forward(small.newState(), prompt).clone(), b = large.forward(large.newState(), prompt);
            // the same weights on the same ids; the kernels' float rounding may differ slightly before/after JIT
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-4, "logit " + i);
            assertEquals(TestModels.successor(350), llm.Sampler.argmax(b, 0, b.length), "still the small model's prediction");
        }
        assertThrows(IllegalArgumentException.class, () -> TestModels.builder(Variant.F32).vocab(100));
    }

    @Test
    void anExplicitPathIsUsedAndAMissingOneIsAOneLineError() {
        Path file = TestModels.write(dir, Variant.GQA);
        try (LessonModel lm = LessonModel.open(file.toString(), hub(dir.resolve("hub")), null).orElseThrow()) {
            assertEquals(2, lm.model().config().headCountKv());
        }
        HubException e = assertThrows(HubException.class, () -> LessonModel.open(dir.resolve("nope.gguf").toString(), hub(dir.resolve("hub")), null));
        assertEquals(dir.resolve("nope.gguf") + ": no such model file", e.getMessage());
    }
}
