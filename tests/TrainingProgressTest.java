import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import llm.TrainingProgress;
import llm.Word2Vec;
import org.junit.jupiter.api.Test;

class TrainingProgressTest {

    @Test
    void intoAPipeALinePerQuarterOfTwoTrainingsTogether() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TrainingProgress progress = new TrainingProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), 2, false);
        Word2Vec.Listener a = progress.part(), b = progress.part();
        a.progress(50, 100, 0.6);   // (0.5 + 0) / 2 = 25 %
        b.progress(10, 100, 0.5);   // (0.5 + 0.1) / 2 = 30 %: same quarter, no line
        a.progress(100, 100, 0.45); // 55 %
        b.progress(100, 100, 0.4);  // 100 %: shown by finish() only
        progress.finish();
        assertEquals("""
                  training [#######.......................]  25 %  loss 0.600
                  training [################..............]  55 %  loss 0.450
                  training [##############################] 100 %  loss 0.400
                """, bytes.toString(StandardCharsets.UTF_8));
        assertThrows(IllegalStateException.class, progress::part);
    }

    @Test
    void onATerminalOneRedrawnLine() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TrainingProgress progress = new TrainingProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), 1, true);
        progress.part().progress(1, 2, 0.5);
        progress.finish();
        assertEquals("\r  training [###############...............]  50 %  loss 0.500"
                + "\r  training [##############################] 100 %  loss 0.500\n", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void nothingWhenNothingIsTrained() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        new TrainingProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), 0, false).finish();
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
    }
}
