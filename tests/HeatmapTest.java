import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import llm.Heatmap;
import org.junit.jupiter.api.Test;

class HeatmapTest {

    @Test
    void plainHeatmapIsJustTheNumbers() {
        String text = Heatmap.render(List.of("the", "bank"), List.of("the", "bank"),
                new float[][] {{1f, 0f}, {0.25f, 0.75f}}, false);
        // Row labels 4 wide, a space, then each cell: a space and the number in 5 columns.
        assertEquals("""
                        the  bank
                the    1.00  0.00
                bank   0.25  0.75
                """, text);
        assertFalse(text.contains("\u001b"));
    }

    @Test
    void colourShadesEachCellWith24BitEscapes() {
        String text = Heatmap.render(List.of("a"), List.of("a", "b"), new float[][] {{1f, 0f}}, true);
        // 1.0 is the palette's orange with black digits, 0.0 the dark grey with light digits.
        assertTrue(text.contains("\u001b[48;2;252;141;98;38;2;0;0;0m 1.00\u001b[0m"), text);
        assertTrue(text.contains("\u001b[48;2;40;40;40;38;2;230;230;230m 0.00\u001b[0m"), text);
    }

    @Test
    void plainMaskShowsWhoMayLookAtWhom() {
        String text = Heatmap.mask(List.of("I", "am", "here"), new boolean[][] {
                {true, false, false}, {true, true, false}, {true, true, true}}, false);
        // Cells as wide as the widest label (4), labels and marks centred in them.
        assertEquals("""
                       I    am  here
                I      x    .    .
                am     x    x    .
                here   x    x    x
                """, text);
    }

    @Test
    void longLabelsAreCut() {
        String text = Heatmap.render(List.of("extraordinarily"), List.of("extraordinarily"), new float[][] {{0.5f}}, false);
        // Column labels are cut to the widest cell (7), row labels to 12.
        assertEquals(" ".repeat(14) + "extrao…\nextraordina…     0.50\n", text);
    }
}
