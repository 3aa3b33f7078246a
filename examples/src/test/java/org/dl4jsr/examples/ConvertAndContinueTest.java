package org.dl4jsr.examples;

import org.junit.jupiter.api.Test;

/** The conversion example runs end to end (it checks its own steps and prints them). */
class ConvertAndContinueTest {
    @Test
    void runs() throws Exception {
        ConvertAndContinue.main(new String[0]);
    }
}
