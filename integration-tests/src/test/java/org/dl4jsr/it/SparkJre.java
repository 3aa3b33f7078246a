package org.dl4jsr.it;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;

/**
 * Marks a test class that starts Spark: it runs on Java 17 (the JDKs Spark 3.5 supports are 8, 11 and 17) and is
 * skipped, with this reason, on newer JDKs, where the plugin itself is supported (docs/portability.md). Measured on
 * Temurin 25.0.3: {@code new JavaSparkContext} throws UnsupportedOperationException from Hadoop's
 * {@code UserGroupInformation.getCurrentUser} ({@code Subject.getSubject} needs a security manager since Java 23).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@EnabledForJreRange(max = JRE.JAVA_17, disabledReason = "Spark 3.5 supports Java 8, 11 and 17 only; on Java 25"
        + " SparkContext fails to start (Hadoop's UserGroupInformation: 'getSubject is not supported'). Run the Spark tests"
        + " on Java 17 (docs/portability.md).")
@interface SparkJre {
}
