import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import llm.ChatTemplate;
import llm.Generation;
import llm.Phi3;
import llm.Sampler;
import llm.TextStreamer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import support.ReferencePhi3;
import support.TestModels;
import support.TestModels.Variant;

/** The decoding loop (stop ids, limits, KV cache on/off, top-K to the listener), the chat template, streaming text. */
class GenerationTest {

    static Phi3 model;
    static ReferencePhi3 reference;
    static final int[] PROMPT = {1, 300, 77, 444, 350};

    @BeforeAll
    static void load() {
        model = Phi3.load(TestModels.shared(Variant.F32));
        reference = ReferencePhi3.load(TestModels.shared(Variant.F32));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void stopsAtAStopIdWithoutReportingIt() {
        int[] greedy = reference.greedy(PROMPT, 8);
        List<Integer> heard = new ArrayList<>();
        Generation.Result r = new Generation(model).maxNewTokens(50).stopIds(greedy[5], 9999)
                .listener((step, id, top) -> heard.add(id)).generate(PROMPT);
        assertArrayEquals(Arrays.copyOf(greedy, 5), r.ids());
        assertEquals(Generation.StopReason.STOP_TOKEN, r.stopReason());
        assertEquals(greedy[5], r.stopId());
        assertEquals(List.of(greedy[0], greedy[1], greedy[2], greedy[3], greedy[4]), heard);
        assertArrayEquals(PROMPT, r.promptIds());
        assertArrayEquals(new int[] {32007, 32000, 32001}, Generation.PHI3_STOP_IDS);
    }

    @Test
    void stopsAtMaxNewTokensAndAtTheEndOfTheContext() {
        Generation g = new Generation(model).maxNewTokens(3);
        Generation.Result r = g.generate(PROMPT);
        assertEquals(3, r.ids().length);
        assertEquals(Generation.StopReason.MAX_TOKENS, r.stopReason());
        assertEquals(-1, r.stopId());

        // 120 prompt tokens in a context of 128: the logits at position 127 still give a 9th token
        int[] longPrompt = new int[120];
        for (int i = 0; i < longPrompt.length; i++) longPrompt[i] = TestModels.word(i * 7);
        Generation.Result full = new Generation(model).maxNewTokens(50).generate(longPrompt);
        assertEquals(Generation.StopReason.CONTEXT_FULL, full.stopReason());
        assertEquals(9, full.ids().length);
    }

    @Test
    void withoutTheKvCacheTheIdsAreTheSame() {
        int[] cached = new Generation(model).maxNewTokens(12).generate(PROMPT).ids();
        int[] uncached = new Generation(model).maxNewTokens(12).useCache(false).generate(PROMPT).ids();
        assertArrayEquals(cached, uncached);
        assertArrayEquals(reference.greedy(PROMPT, 12), cached);
    }

    @Test
    void theListenerGetsTheTopLogitsOfTheReferenceAndTheirProbabilities() {
        int k = 5, steps = 4;
        List<List<Generation.TopToken>> tops = new ArrayList<>();
        List<Integer> chosen = new ArrayList<>();
        Generation.Result r = new Generation(model).maxNewTokens(steps).topLogits(k)
                .listener((step, id, top) -> { assertEquals(tops.size(), step); tops.add(top); chosen.add(id); })
                .generate(PROMPT);
        assertEquals(steps, tops.size());
        int[] sequence = Arrays.copyOf(PROMPT, PROMPT.length + steps);
        System.arraycopy(r.ids(), 0, sequence, PROMPT.length, steps);
        double[][] logits = reference.logits(sequence);
        for (int s = 0; s < steps; s++) {
            double[] expected = logits[PROMPT.length - 1 + s];
            Integer[] order = new Integer[expected.length];
            for (int i = 0; i < order.length; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Double.compare(expected[b], expected[a]));
            double max = expected[order[0]], z = 0;
            for (double e : expected) z += Math.exp(e - max);
            List<Generation.TopToken> top = tops.get(s);
            assertEquals(k, top.size());
            assertEquals(chosen.get(s), top.get(0).id(), "greedy picks the first entry");
            for (int j = 0; j < k; j++) {
                assertEquals(order[j], top.get(j).id(), "step " + s + " rank " + j);
                // same tolerance as the engine tests: 1e-4 of the largest |logit|
                assertEquals(expected[order[j]], top.get(j).logit(), 1e-4 * Math.abs(max), "step " + s + " rank " + j);
                assertEquals(Math.exp(expected[order[j]] - max) / z, top.get(j).probability(), 1e-5);
            }
        }
    }

    @Test
    void theWholeDistributionSumsToOneAndMarksWhatEachStrategyMayPick() {
        int vocab = model.config().vocabSize();
        List<List<Generation.TopToken>> greedySteps = new ArrayList<>();
        new Generation(model).maxNewTokens(3).topLogits(vocab).listener((step, id, top) -> greedySteps.add(top)).generate(PROMPT);
        for (List<Generation.TopToken> top : greedySteps) {
            assertEquals(vocab, top.size());
            double sum = 0;
            for (Generation.TopToken t : top) sum += t.probability();
            assertEquals(1.0, sum, 1e-5);
            assertTrue(top.get(0).allowed(), "greedy may pick the most likely token");
            assertEquals(1, top.stream().filter(Generation.TopToken::allowed).count(), "and only that one");
        }
        // top-k 3: exactly the 3 most likely are allowed, whatever was drawn
        List<List<Generation.TopToken>> topKSteps = new ArrayList<>();
        new Generation(model).sampler(Sampler.of(1f, 3, 1f, 7)).maxNewTokens(3).topLogits(5)
                .listener((step, id, top) -> topKSteps.add(top)).generate(PROMPT);
        for (List<Generation.TopToken> top : topKSteps) {
            assertEquals(List.of(true, true, true, false, false), top.stream().map(Generation.TopToken::allowed).toList());
        }
    }

    @Test
    void withoutTopLogitsTheListenerGetsAnEmptyList() {
        List<Integer> sizes = new ArrayList<>();
        new Generation(model).maxNewTokens(2).listener((step, id, top) -> sizes.add(top.size())).generate(PROMPT);
        assertEquals(List.of(0, 0), sizes);
    }

    @Test
    void theSameSeedGivesTheSameSample() {
        Generation a = new Generation(model).maxNewTokens(10).sampler(Sampler.of(1.5f, 0, 1f, 42));
        Generation b = new Generation(model).maxNewTokens(10).sampler(Sampler.of(1.5f, 0, 1f, 42));
        assertArrayEquals(a.generate(PROMPT).ids(), b.generate(PROMPT).ids());
    }

    @Test
    void aConversationContinuesInTheSameState() {
        Phi3.State state = model.newState();
        Generation g = new Generation(model).maxNewTokens(4);
        Generation.Result first = g.generate(state, PROMPT);
        assertEquals(PROMPT.length + 3, state.position(), "the last generated token is not fed yet");
        int[] next = {first.ids()[3], 400, 401};
        Generation.Result second = g.generate(state, next);
        int[] all = new int[PROMPT.length + 3 + next.length];
        System.arraycopy(PROMPT, 0, all, 0, PROMPT.length);
        System.arraycopy(first.ids(), 0, all, PROMPT.length, 3);
        System.arraycopy(next, 0, all, PROMPT.length + 3, next.length);
        assertArrayEquals(reference.greedy(all, 4), second.ids());
        assertThrows(IllegalArgumentException.class, () -> g.generate(state));
    }

    // ---------------------------------------------------------------------------------------------

    @Test
    void phi3ChatTemplate() {
        assertEquals("<|user|>\nHello<|end|>\n<|assistant|>\n", ChatTemplate.phi3(null, "Hello"));
        assertEquals("<|system|>\nBe brief.<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\n", ChatTemplate.phi3("Be brief.", "Hello"));
        assertEquals("<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n<|user|>\nAnd?<|end|>\n<|assistant|>\n",
                ChatTemplate.phi3(List.of(ChatTemplate.Message.user("Hi"), ChatTemplate.Message.assistant("Hello!"), ChatTemplate.Message.user("And?"))));
        assertThrows(IllegalArgumentException.class, () -> new ChatTemplate.Message("robot", "x"));
    }

    @Test
    void theStreamerEmitsTheNewSuffixOfTheGrowingText() {
        // A SentencePiece-like decoder: ▁ is a space, the first space of the text is dropped, and byte
        // pieces <0xE2> <0x82> <0xAC> make "€" only together.
        String[] pieces = {"▁Hello", ",", "▁world", "▁", "<0xE2>", "<0x82>", "<0xAC>", "!"};
        Function<long[], String> decode = ids -> {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            for (long id : ids) {
                String p = pieces[(int) id];
                if (p.startsWith("<0x")) bytes.write(Integer.parseInt(p.substring(3, 5), 16));
                else bytes.writeBytes(p.replace('▁', ' ').getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            String text = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
            return text.startsWith(" ") ? text.substring(1) : text;
        };
        List<String> emitted = new ArrayList<>();
        TextStreamer streamer = new TextStreamer(decode, emitted::add);
        for (int id = 0; id < pieces.length; id++) streamer.accept(id);
        streamer.flush();
        assertEquals(List.of("Hello", ",", " world", " ", "€", "!"), emitted);
        assertEquals("Hello, world €!", String.join("", emitted));
        assertEquals("Hello, world €!", streamer.text());
    }
}
