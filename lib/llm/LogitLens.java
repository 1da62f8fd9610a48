//SOURCES Phi3.java
package llm;

import java.util.Arrays;

/**
 * The logit lens (nostalgebraist, 2020): read the residual stream after each block with the model's
 * own final norm and LM head, as if the model stopped there. Early blocks give vague guesses; the
 * block where the right answer first comes out on top shows where the model "knows" it. After the
 * last block the lens gives exactly the model's logits.
 */
public final class LogitLens {

    private LogitLens() {}

    /**
     * Runs {@code ids} through a fresh state and returns the lens's logits for the last position after
     * every block: {@code [blockCount][vocab]}. The last row is the model's real output.
     */
    public static float[][] lastPosition(Phi3 model, int... ids) {
        if (ids.length == 0) throw new IllegalArgumentException("the logit lens needs at least one token");
        Phi3.Config c = model.config();
        int dim = c.embeddingLength(), last = ids.length - 1;
        float[][] residuals = new float[c.blockCount()][];
        Phi3.State state = model.newState(ids.length).observer(new Phi3.Observer() {
            @Override
            public void blockOutput(int layer, int position, float[] hidden, int offset) {
                if (position == last) residuals[layer] = Arrays.copyOfRange(hidden, offset, offset + dim);
            }
        });
        model.forward(state, ids);
        float[][] logits = new float[c.blockCount()][c.vocabSize()];
        float[] normed = new float[dim];
        for (int layer = 0; layer < residuals.length; layer++) {
            model.finalNorm(residuals[layer], 0, normed, 0);
            model.lmHead(normed, 0, logits[layer], 0);
        }
        return logits;
    }
}
