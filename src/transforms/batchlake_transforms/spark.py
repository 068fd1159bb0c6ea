"""The Spark session for local runs, and the settings every run needs (local and on Glue)."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pyspark import SparkContext
from pyspark.errors import PySparkRuntimeError
from pyspark.sql import SparkSession

LOG4J = Path(__file__).with_name("log4j2.properties")

# Settings the transform code relies on, identical on Glue and locally.
REQUIRED_CONF = {
    "spark.sql.session.timeZone": "UTC",
    # Same cast semantics on Spark 3.5 (Glue 5) and 4.x: invalid values fail, try_cast returns null.
    "spark.sql.ansi.enabled": "true",
    # Overwrite only the partitions a run touches.
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.adaptive.enabled": "true",
    # Parquet timestamps as INT64 microseconds, not Spark's default INT96 (deprecated by Parquet): 8 bytes instead of
    # 12, and min/max statistics, so readers (Athena, DuckDB, Spark) skip row groups on a time filter.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # Dates and timestamps before 1582 written as they are (proleptic Gregorian), as Spark 4 does by default: Spark 3.5
    # (Glue 5) would otherwise refuse to write them. Every reader here (Athena, DuckDB, Spark 3+) reads them that way.
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
}

# Settings of local runs only, on a laptop's few cores and local disk (Glue keeps its own).
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    # Cached frames (the validation's) are stored uncompressed: choosing a compression per column per batch cost about
    # 10% of the parse stage when it was cached, for 12% less memory (docs/decisions/0505-transform-speed.md).
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
    # Local folders are listed by the driver: a listing job of one task per folder (183 for the staged output of a
    # first load by date) costs more than it saves on a local disk.
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
}


# Spark generates one Java method per query stage; the parse stage of a wide contract exceeds HotSpot's 8,000-byte
# limit for JIT compilation and would run interpreted (about 1.7x slower, docs/decisions/0505-transform-speed.md).
# A batch job wants throughput, not short pauses: the parallel collector (docs/decisions/0506-jit-by-input-size.md).
JVM_OPTIONS = [f"-Dlog4j2.configurationFile={LOG4J}", "-XX:-DontCompileHugeMethods", "-XX:+UseParallelGC"]
# Below this many records to transform, a local run's JVM is started for a small input: it compiles with C1 only, as
# HotSpot's optimizing compiler (C2) spends more CPU compiling Spark than it saves on a small input, and a local run
# has few cores to share with it. Crossover on 2 cores: about 225k orders (docs/decisions/0506-jit-by-input-size.md).
# A larger input's JVM starts its heap at its full size: a heap grown from 1/64 of the machine's memory went through
# full collections while the parsed rows filled it (docs/decisions/0510-heap-starts-full-size.md).
SMALL_INPUT_MAX_RECORDS = 200_000
QUICK_JIT_OPTIONS = ["-XX:TieredStopAtLevel=1"]
# Where the driver's JVM options are not ours to set (AWS Glue), such a stage runs without whole-stage code generation
# instead: slower than compiling the huge method, faster than interpreting it.
HUGE_METHOD_FALLBACK_CONF = {"spark.sql.codegen.hugeMethodLimit": "8000"}
# HotSpot's optimizing compiler (C2) skips the code that runs per query, stage or task, not per row (the SQL parser and
# optimizer, Janino, serialization, class loading): compiling it took CPU from the first job's tasks on a local run's
# few cores (docs/decisions/0508-c2-skips-planning-code.md).
JIT_DIRECTIVES = Path(__file__).with_name("jit_directives.json")
JIT_DIRECTIVES_PROPERTY = "batchlake.jitDirectives"  # a JVM system property: the directives are added once per JVM
# A local JVM maps the classes it loads (Spark, Scala, Hadoop, Parquet, Jackson …) from a class-data-sharing archive,
# parsed and verified once per installation, when `batchlake class-archive` has built one (`make setup` does): about
# 5 s less start-up, and about 2 s less class loading in a cold job (docs/decisions/0511-class-archive.md).
# The archive is named after the Java and the Spark jars it was built from: after either changes, no archive is used
# until it is built again. CLASS_ARCHIVE_ENV names another archive file, or is `off` for none. A JVM started with
# CLASS_ARCHIVE_DUMP_ENV set (by the build) writes the archive of its classes to that path at exit.
CLASS_ARCHIVE_ENV = "BATCHLAKE_SPARK_CLASS_ARCHIVE"
CLASS_ARCHIVE_DUMP_ENV = "BATCHLAKE_SPARK_CLASS_ARCHIVE_DUMP"


class JavaMissingError(RuntimeError):
    """No usable Java for Spark."""


def require_java() -> Path:
    """The `java` Spark starts: `$JAVA_HOME/bin/java`, else the one on PATH; `JavaMissingError` if neither."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:  # PySpark starts $JAVA_HOME/bin/java whenever JAVA_HOME is set
        if not Path(java_home, "bin", "java").exists():
            raise JavaMissingError(
                f"JAVA_HOME={java_home} has no bin/java: point JAVA_HOME at a Java 17 installation, or unset it to use "
                "the java on PATH"
            )
        return Path(java_home, "bin", "java")
    found = shutil.which("java")
    if found is None:
        raise JavaMissingError(
            "Java is not installed: Spark needs Java 17 (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"
        )
    return Path(found)


def apply_required_conf(spark: SparkSession, *, huge_method_fallback: bool = False) -> None:
    settings = REQUIRED_CONF | (HUGE_METHOD_FALLBACK_CONF if huge_method_fallback else {})
    for key, value in settings.items():
        spark.conf.set(key, value)


def class_archive_path() -> Path:
    """Where this installation's class archive is, for the Java and the Spark jars a local session starts with."""
    from pyspark.find_spark_home import _find_spark_home

    java_home = require_java().resolve().parent.parent
    spark_jars = sorted(Path(_find_spark_home(), "jars").glob("*.jar"))
    # The JDK's class image (its own classes) and every jar on Spark's class path, by path, size and modification time.
    digest = hashlib.sha256()
    for file in [java_home / "lib" / "modules", *spark_jars]:
        stat = file.stat() if file.exists() else None
        digest.update(f"{file}\0{stat and stat.st_size}\0{stat and stat.st_mtime_ns}\n".encode())
    return Path(sys.prefix, "share", "batchlake", f"spark-classes-{digest.hexdigest()[:16]}.jsa")


def class_archive() -> Path | None:
    """The class archive a local session maps: CLASS_ARCHIVE_ENV's file (`off`: none), else this installation's."""
    chosen = os.environ.get(CLASS_ARCHIVE_ENV)
    if chosen == "off":
        return None
    archive = Path(chosen) if chosen else class_archive_path()
    return archive if archive.exists() else None


def class_archive_options() -> list[str]:
    """The JVM options that map the class archive (`class_archive`), or write one at exit (CLASS_ARCHIVE_DUMP_ENV)."""
    dump_to = os.environ.get(CLASS_ARCHIVE_DUMP_ENV)
    if dump_to:
        # The JVM lists every class it leaves out (signed jars such as Janino's, Spark's generated classes) as a
        # warning on standard output: in a log beside the archive instead.
        return [f"-XX:ArchiveClassesAtExit={dump_to}", "-Xlog:cds*=off", f"-Xlog:cds*=warning:file={dump_to}.log"]
    archive = class_archive()
    return [f"-XX:SharedArchiveFile={archive}"] if archive else []


def maps_class_archive(spark: SparkSession, archive: Path) -> bool | None:
    """Whether the session's JVM mapped `archive` (its `/proc/<pid>/maps`); None where there is no `/proc`."""
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    maps = Path(f"/proc/{pid}/maps")
    return str(archive.resolve()) in maps.read_text() if maps.exists() else None


def is_small_input(records: int) -> bool:
    """Whether a JVM started to transform `records` records is sized for a small input (`SMALL_INPUT_MAX_RECORDS`)."""
    return records < SMALL_INPUT_MAX_RECORDS


def local_spark_session(
    work_dir: str | Path, app_name: str = "batchlake", cores: str = "*", *, small_input: bool = False
) -> SparkSession:
    """Spark local[*] for the local environment; Derby/metastore and scratch files kept under `work_dir`.

    The JVM is sized by the input, for its whole life (`SMALL_INPUT_MAX_RECORDS`): for a small input it compiles with
    C1 only and grows its heap as needed; for a larger one it compiles with C2 too and its heap starts at full size.
    """
    require_java()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    work_dir = Path(work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    memory = os.environ.get("BATCHLAKE_SPARK_DRIVER_MEMORY") or "4g"  # Spark sets the heap's maximum from it
    input_size_options = QUICK_JIT_OPTIONS if small_input else [f"-Xms{memory}"]
    jvm_options = [f"-Dderby.system.home={work_dir}", *JVM_OPTIONS, *input_size_options]
    archive_options = class_archive_options()
    if archive_options:  # should the archive crash the JVM: its report in the session's folder, no core dump
        archive_options += [f"-XX:ErrorFile={work_dir}/hs_err_pid%p.log", "-XX:-CreateCoredumpOnCrash"]
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.local.dir", str(work_dir / "tmp"))
        .config("spark.sql.warehouse.dir", str(work_dir / "warehouse"))
        .config("spark.driver.memory", memory)
    )
    for key, value in (LOCAL_CONF | REQUIRED_CONF).items():
        builder = builder.config(key, value)
    spark = get_or_create(builder, jvm_options, archive_options)
    spark.sparkContext.setLogLevel("ERROR")
    quiet_pyspark_error_log()
    add_jit_directives(spark)
    return spark


def get_or_create(builder: SparkSession.Builder, jvm_options: list[str], archive_options: list[str]) -> SparkSession:
    """The session, its JVM started with `archive_options` (the class archive) if it can be, else without them.

    A damaged archive must not stop local runs (a truncated file makes HotSpot crash as it maps it): a JVM that does
    not start with it is started again without it, with a warning. If that fails too, the first error is raised.
    """
    builder.config("spark.driver.extraJavaOptions", " ".join([*jvm_options, *archive_options]))
    try:
        return builder.getOrCreate()
    except PySparkRuntimeError as with_archive:
        if not archive_options:
            raise
        try:
            spark = builder.config("spark.driver.extraJavaOptions", " ".join(jvm_options)).getOrCreate()
        except PySparkRuntimeError:
            raise with_archive from None
    logging.getLogger(__name__).warning(
        "Spark's JVM did not start with %s, and started without it (rebuild: batchlake class-archive --force)",
        archive_options[0].partition("=")[2],
    )
    return spark


def quiet_pyspark_error_log() -> None:
    """PySpark 4 logs every analysis error, Java stack trace included, as a JSON line on stderr, then raises it. The
    caller reports the exception it catches in its own words (a contract error, one line): the log line is noise."""
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # PySpark 3.5 has no such log
        return
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)


def add_jit_directives(spark: SparkSession) -> None:
    """Add `JIT_DIRECTIVES` to the session's JVM, once (`jcmd <pid> Compiler.directives_add`).

    Not with the `-XX:CompilerDirectivesFile` flag, which prints "1 compiler directives added" to the job's standard
    output. Raises `RuntimeError` with the JVM's message if the file does not parse.
    """
    system = spark.sparkContext._jvm.java.lang.System
    if system.getProperty(JIT_DIRECTIVES_PROPERTY):
        return
    output = diagnostic_command(spark, "compilerDirectivesAdd", str(JIT_DIRECTIVES))
    if "compiler directives added" not in output:
        raise RuntimeError(f"the JVM refused {JIT_DIRECTIVES}: {output.strip()}")
    system.setProperty(JIT_DIRECTIVES_PROPERTY, str(JIT_DIRECTIVES))


def diagnostic_command(spark: SparkSession, operation: str, *arguments: str) -> str:
    """Run a `jcmd` command in the session's JVM through its DiagnosticCommand MBean (`compilerDirectivesAdd` is
    `jcmd <pid> Compiler.directives_add`) and return its output."""
    jvm, gateway = spark.sparkContext._jvm, spark.sparkContext._gateway

    def array(java_type, *items):
        java_array = gateway.new_array(java_type, len(items))
        for i, item in enumerate(items):
            java_array[i] = item
        return java_array

    # MBeanServerConnection.invoke through reflection: py4j cannot call it on the JDK's internal server class.
    Class, Object, String = jvm.java.lang.Class, jvm.java.lang.Object, jvm.java.lang.String
    signature = ["javax.management.ObjectName", "java.lang.String", "[Ljava.lang.Object;", "[Ljava.lang.String;"]
    invoke = Class.forName("javax.management.MBeanServerConnection").getMethod(
        "invoke", array(Class, *(Class.forName(name) for name in signature))
    )
    mbean = jvm.javax.management.ObjectName("com.sun.management:type=DiagnosticCommand")
    server = jvm.java.lang.management.ManagementFactory.getPlatformMBeanServer()
    parameters = array(Object, array(String, *arguments))
    return invoke.invoke(server, array(Object, mbean, operation, parameters, array(String, "[Ljava.lang.String;")))


def stop_local_spark(spark: SparkSession) -> None:
    """Stop the session and its JVM, so that the next `local_spark_session` starts a JVM with its own options.

    `SparkSession.stop` alone keeps PySpark's JVM (and the options it started with) for the next session.
    """
    spark.stop()
    gateway = SparkContext._gateway
    if gateway is None:
        return
    gateway.shutdown()
    process = getattr(gateway, "proc", None)
    if process is not None:
        process.stdin.close()  # PySpark's JVM exits when its stdin closes
        try:  # writing a class archive at exit takes 10-20 s
            process.wait(timeout=600 if os.environ.get(CLASS_ARCHIVE_DUMP_ENV) else 60)
        except subprocess.TimeoutExpired:
            process.kill()  # a class archive it was writing is incomplete: the build checks that a session maps it
            process.wait()
    SparkContext._gateway = None
    SparkContext._jvm = None
