import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import llm.TokenColors;
import org.junit.jupiter.api.Test;

class TokenColorsTest {

    private static final String ESC = "\u001b[";

    @Test
    void backgroundModePrintsEachTokenOnThePaletteColourThenResetAndSpace() {
        TokenColors colors = new TokenColors(true, TokenColors.Mode.BACKGROUND);
        assertEquals(ESC + "48;2;102;194;165mHello" + ESC + "0m " + ESC + "48;2;252;141;98m World" + ESC + "0m ",
                colors.render(List.of("Hello", " World")));
    }

    @Test
    void foregroundModeColoursTheLetters() {
        TokenColors colors = new TokenColors(true, TokenColors.Mode.FOREGROUND);
        assertEquals(ESC + "38;2;102;194;165ma" + ESC + "0m ", colors.render(List.of("a")));
    }

    @Test
    void paletteIsTheCoursesInItsOrderAndCycles() {
        assertEquals(List.of("102;194;165", "252;141;98", "141;160;203", "231;138;195", "166;216;84", "255;217;47"),
                TokenColors.PALETTE);
        String seven = new TokenColors(true, TokenColors.Mode.BACKGROUND).render(List.of("1", "2", "3", "4", "5", "6", "7"));
        assertTrue(seven.endsWith(ESC + "48;2;255;217;47m6" + ESC + "0m " + ESC + "48;2;102;194;165m7" + ESC + "0m "), seven);
    }

    @Test
    void plainModeShowsSplitsAndMakesNewlinesAndTabsVisible() {
        TokenColors plain = new TokenColors(false, TokenColors.Mode.BACKGROUND);
        assertEquals("\\n|English| and|\\t|a\\\\b", plain.render(List.of("\n", "English", " and", "\t", "a\\b")));
        assertFalse(plain.render(List.of("x")).contains(ESC));
    }

    @Test
    void explicitChoicesWinAndAutoIsPlainWhenNotATerminal() {
        assertTrue(TokenColors.useColor(TokenColors.Choice.ALWAYS));
        assertFalse(TokenColors.useColor(TokenColors.Choice.NEVER));
        // The test JVM's stdout is a pipe, not a terminal.
        assertFalse(TokenColors.useColor(TokenColors.Choice.AUTO));
    }
}
