// kernel-metadata.json and dataset-metadata.json folders (kaggle-api.md sections 4 and 5.5).

#include "metadata.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace kd;

namespace {

using Files = QMap<QString, QByteArray>;

QString dataDir(const char *name)
{
    return QStringLiteral(KD_TEST_DATA_DIR "/metadata/") + QLatin1StringView(name);
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    return f.readAll();
}

bool writeFiles(const QString &dir, const Files &files)
{
    for (auto it = files.begin(); it != files.end(); ++it) {
        const QString path = QDir(dir).filePath(it.key());
        if (!QDir().mkpath(QFileInfo(path).absolutePath()))
            return false;
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(it.value()) != it.value().size())
            return false;
    }
    return true;
}

const QByteArray kGoodScript =
    R"({"id": "alice/my-kernel", "title": "My Kernel", "code_file": "main.py",
 "language": "python", "kernel_type": "script"})";

/// kGoodScript with one key replaced (or removed when `value` is empty).
QByteArray withKey(const char *key, const QByteArray &value)
{
    QJsonObject o = QJsonDocument::fromJson(kGoodScript).object();
    if (value.isEmpty()) {
        o.remove(QLatin1StringView(key));
    } else {
        const QJsonDocument v = QJsonDocument::fromJson("[" + value + "]");
        o.insert(QLatin1StringView(key), v.array().at(0));
    }
    return QJsonDocument(o).toJson();
}

DatasetFolderMetadata goodDataset()
{
    DatasetFolderMetadata m;
    m.title = QStringLiteral("ImageNet subset");
    m.id = QStringLiteral("alice/imagenet-subset");
    m.subtitle = QStringLiteral("A small subset for quick tests");
    m.license = QStringLiteral("CC0-1.0");
    return m;
}

} // namespace

class TestMetadata : public QObject
{
    Q_OBJECT

private slots:
    void scriptFolder();
    void notebookFolder();
    void defaultsAndIdNo_data();
    void defaultsAndIdNo();
    void rmarkdownNotebookPushesAsR();
    void absoluteCodeFile();
    void badKernelFolders_data();
    void badKernelFolders();
    void writeReadRoundTrip();
    void writeFailsCleanly();
    void fromPullAsCliDoes();
    void defaultCodeFileNames_data();
    void defaultCodeFileNames();
    void datasetFixtures();
    void badDatasets_data();
    void badDatasets();
    void datasetWriteReadRoundTrip();
};

void TestMetadata::scriptFolder()
{
    const auto r = readKernelFolder(dataDir("script_kernel"));
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    const KernelFolderMetadata &m = r->metadata;
    QCOMPARE(m.id, QStringLiteral("alice/train-model"));
    QCOMPARE(m.idNo, std::optional<qint64>(12345)); // a numeric string
    QCOMPARE(m.title, QStringLiteral("Train Model"));
    QCOMPARE(m.codeFile, QStringLiteral("train.py"));
    QCOMPARE(m.isPrivate, false);     // "false"
    QCOMPARE(m.enableGpu, true);      // "TRUE"
    QCOMPARE(m.enableTpu, false);     // false
    QCOMPARE(m.enableInternet, true); // absent: the CLI's default
    QCOMPARE(m.machineShape, QStringLiteral("NvidiaTeslaT4"));
    QCOMPARE(m.datasetSources, QStringList{QStringLiteral("alice/imagenet-subset")});
    QCOMPARE(m.competitionSources, QStringList{QStringLiteral("titanic")});
    QCOMPARE(m.kernelSources, QStringList{QStringLiteral("alice/prepare-data")});
    QCOMPARE(m.modelSources, QStringList{QStringLiteral("google/gemma/pyTorch/2b/1")});
    QCOMPARE(m.keywords, (QStringList{QStringLiteral("gpu"), QStringLiteral("cnn")}));
    QCOMPARE(m.dockerImagePinningType, QStringLiteral("original"));
    QCOMPARE(r->codeFilePath,
             QDir(dataDir("script_kernel")).absoluteFilePath(QStringLiteral("train.py")));
    // Python's text mode: \r\n and \r become \n.
    QCOMPARE(r->codeText,
             QStringLiteral("import torch\nprint('caf\u00e9')\n# old mac line\nprint(2)\n"));

    const SaveKernelRequest req = toSaveKernelRequest(*r);
    QCOMPARE(req.id, std::optional<qint64>(12345));
    QCOMPARE(req.slug, QStringLiteral("alice/train-model"));
    QCOMPARE(req.newTitle, QStringLiteral("Train Model"));
    QCOMPARE(req.text, r->codeText);
    QCOMPARE(req.language, QStringLiteral("python"));
    QCOMPARE(req.kernelType, QStringLiteral("script"));
    QCOMPARE(req.datasetDataSources, m.datasetSources);
    QCOMPARE(req.kernelDataSources, m.kernelSources);
    QCOMPARE(req.competitionDataSources, m.competitionSources);
    QCOMPARE(req.modelDataSources, m.modelSources);
    QCOMPARE(req.categoryIds, m.keywords);
    QCOMPARE(req.isPrivate, false);
    QCOMPARE(req.enableGpu, true);
    QCOMPARE(req.enableInternet, true);
    QCOMPARE(req.machineShape, QStringLiteral("NvidiaTeslaT4"));
    QCOMPARE(req.dockerImagePinningType, QStringLiteral("original"));
    QCOMPARE(req.sessionTimeoutSeconds, 0);
}

void TestMetadata::notebookFolder()
{
    const auto r = readKernelFolder(dataDir("notebook_kernel"));
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    QCOMPARE(r->metadata.idNo, std::optional<qint64>(987654321));
    QVERIFY(r->metadata.id.isEmpty());
    QCOMPARE(r->metadata.enableInternet, false); // "False"
    QVERIFY(r->metadata.machineShape.isEmpty());
    // Byte for byte what `kaggle kernels push` sends: code-cell outputs cleared, list
    // sources joined, Python's json.dumps (generated with Python, see the fixture).
    const QString expected =
        QString::fromUtf8(readAll(dataDir("notebook_kernel/expected_push_text.txt")));
    if (r->codeText != expected) {
        qsizetype i = 0;
        while (i < expected.size() && i < r->codeText.size() && expected[i] == r->codeText[i])
            ++i;
        QFAIL(qPrintable(QStringLiteral("differs at %1: got \"%2\" expected \"%3\"")
                             .arg(i)
                             .arg(r->codeText.mid(i - 20, 60), expected.mid(i - 20, 60))));
    }
    const QJsonObject nb = QJsonDocument::fromJson(r->codeText.toUtf8()).object();
    QVERIFY(!r->codeText.contains(QStringLiteral("huge output")));
    QVERIFY(r->codeText.contains(QStringLiteral("raw cells keep outputs")));
    QCOMPARE(nb.value(QStringLiteral("cells"))
                 .toArray()
                 .at(1)
                 .toObject()
                 .value(QStringLiteral("source"))
                 .toString(),
             QStringLiteral("import numpy as np\nx = np.zeros((3, 3))\nprint(\"tab\\there\", x)"));
    const SaveKernelRequest req = toSaveKernelRequest(*r);
    QCOMPARE(req.id, std::optional<qint64>(987654321));
    QVERIFY(req.slug.isEmpty());
    QCOMPARE(req.kernelType, QStringLiteral("notebook"));
}

void TestMetadata::defaultsAndIdNo_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("id");
    QTest::addColumn<qint64>("idNo"); // 0: none
    QTest::addColumn<bool>("isPrivate");
    QTest::addColumn<bool>("enableInternet");

    QTest::newRow("defaults") << kGoodScript << QStringLiteral("alice/my-kernel") << qint64(0)
                              << true << true;
    QTest::newRow("id_no number preferred")
        << withKey("id_no", "4242") << QStringLiteral("alice/my-kernel") << qint64(4242) << true
        << true;
    QTest::newRow("id_no string, no id") << withKey("id", {}).replace("{", "{\"id_no\": \"77\",")
                                         << QString() << qint64(77) << true << true;
    QTest::newRow("empty id_no string is unset")
        << withKey("id_no", "\"\"") << QStringLiteral("alice/my-kernel") << qint64(0) << true
        << true;
    QTest::newRow("null values take defaults")
        << withKey("is_private", "null").replace("{", "{\"enable_internet\": null,")
        << QStringLiteral("alice/my-kernel") << qint64(0) << true << true;
    QTest::newRow("booleans as JSON")
        << withKey("is_private", "false").replace("{", "{\"enable_internet\": false,")
        << QStringLiteral("alice/my-kernel") << qint64(0) << false << false;
    QTest::newRow("booleans as odd-case strings")
        << withKey("is_private", "\"FaLsE\"").replace("{", "{\"enable_internet\": \"tRUE\",")
        << QStringLiteral("alice/my-kernel") << qint64(0) << false << true;
}

void TestMetadata::defaultsAndIdNo()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, id);
    QFETCH(qint64, idNo);
    QFETCH(bool, isPrivate);
    QFETCH(bool, enableInternet);
    QTemporaryDir dir;
    QVERIFY(writeFiles(dir.path(), {{QStringLiteral("kernel-metadata.json"), json},
                                    {QStringLiteral("main.py"), "print(1)\n"}}));
    const auto r = readKernelFolder(dir.path());
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    QCOMPARE(r->metadata.id, id);
    QCOMPARE(r->metadata.idNo.value_or(0), idNo);
    QCOMPARE(r->metadata.isPrivate, isPrivate);
    QCOMPARE(r->metadata.enableGpu, false);
    QCOMPARE(r->metadata.enableTpu, false);
    QCOMPARE(r->metadata.enableInternet, enableInternet);
    const SaveKernelRequest req = toSaveKernelRequest(*r);
    QCOMPARE(req.id.value_or(0), idNo); // id wins on the server when both are sent
    QCOMPARE(req.slug, id);
    QCOMPARE(req.text, QStringLiteral("print(1)\n"));
}

void TestMetadata::rmarkdownNotebookPushesAsR()
{
    QTemporaryDir dir;
    QVERIFY(writeFiles(
        dir.path(),
        {{QStringLiteral("kernel-metadata.json"), withKey("language", "\"rmarkdown\"")
                                                      .replace("\"script\"", "\"notebook\"")
                                                      .replace("main.py", "nb.irnb")},
         {QStringLiteral("nb.irnb"), R"({"cells": [], "metadata": {}})"}}));
    const auto r = readKernelFolder(dir.path());
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    QCOMPARE(r->metadata.language, QStringLiteral("rmarkdown"));
    QCOMPARE(toSaveKernelRequest(*r).language, QStringLiteral("r"));
    QCOMPARE(r->codeText, QStringLiteral(R"({"cells": [], "metadata": {}})"));

    // A script keeps rmarkdown.
    QTemporaryDir dir2;
    QVERIFY(
        writeFiles(dir2.path(), {{QStringLiteral("kernel-metadata.json"),
                                  withKey("language", "\"rmarkdown\"").replace("main.py", "a.Rmd")},
                                 {QStringLiteral("a.Rmd"), "---\ntitle: x\n---\n"}}));
    const auto s = readKernelFolder(dir2.path());
    QVERIFY(s.ok());
    QCOMPARE(toSaveKernelRequest(*s).language, QStringLiteral("rmarkdown"));
}

void TestMetadata::absoluteCodeFile()
{
    QTemporaryDir dir;
    QTemporaryDir elsewhere;
    const QString code = QDir(elsewhere.path()).filePath(QStringLiteral("abs.py"));
    QVERIFY(writeFiles(elsewhere.path(), {{QStringLiteral("abs.py"), "x = 1\n"}}));
    QJsonObject o = QJsonDocument::fromJson(kGoodScript).object();
    o.insert(QStringLiteral("code_file"), code);
    QVERIFY(writeFiles(dir.path(),
                       {{QStringLiteral("kernel-metadata.json"), QJsonDocument(o).toJson()}}));
    const auto r = readKernelFolder(dir.path());
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    QCOMPARE(r->codeFilePath, code);
    QCOMPARE(r->codeText, QStringLiteral("x = 1\n"));
}

void TestMetadata::badKernelFolders_data()
{
    QTest::addColumn<Files>("files");
    QTest::addColumn<QStringList>("messageContains");

    const QByteArray py = "print(1)\n";
    const auto row = [&](const char *name, const QByteArray &meta, const QStringList &contains,
                         Files extra = Files{}) {
        Files f{{QStringLiteral("kernel-metadata.json"), meta}, {QStringLiteral("main.py"), py}};
        for (auto it = extra.begin(); it != extra.end(); ++it)
            f.insert(it.key(), it.value());
        QTest::newRow(name) << f << contains;
    };

    row("broken json", "{\n  \"id\": \"alice/my-kernel\",\n  \"title\": \n}\n",
        {QStringLiteral("kernel-metadata.json: invalid JSON at line 4, column 1")});
    row("broken json unicode column", "{\"title\": \"\u00e9\u00e9\u00e9\" x}",
        {QStringLiteral("invalid JSON at line 1, column 17")});
    row("not an object", "[]", {QStringLiteral("kernel-metadata.json: expected a JSON object")});
    row("missing code_file", withKey("code_file", {}), {QStringLiteral("code_file is required")});
    row("code file not found", withKey("code_file", "\"src/missing.py\""),
        {QStringLiteral("code_file \"src/missing.py\" not found"),
         QStringLiteral("/src/missing.py")});
    row("code file is a directory", withKey("code_file", "\"sub\""),
        {QStringLiteral("code_file \"sub\" not found")}, {{QStringLiteral("sub/keep.txt"), "x"}});
    row("bad language", withKey("language", "\"julia\""),
        {QStringLiteral("language must be one of python, r, rmarkdown, got \"julia\"")});
    row("missing language", withKey("language", {}), {QStringLiteral("language must be one of")});
    row("language wrong type", withKey("language", "3"),
        {QStringLiteral("kernel-metadata.json: language must be a string")});
    row("bad kernel_type", withKey("kernel_type", "\"app\""),
        {QStringLiteral("kernel_type must be script or notebook, got \"app\"")});
    row("bad boolean string", withKey("is_private", "\"maybe\""),
        {QStringLiteral("kernel-metadata.json: is_private must be true or false, got \"maybe\"")});
    row("boolean as number", withKey("enable_gpu", "1"),
        {QStringLiteral("enable_gpu must be true or false, got 1")});
    row("boolean yes", withKey("enable_internet", "\"yes\""),
        {QStringLiteral("enable_internet must be true or false, got \"yes\"")});
    row("unknown machine shape", withKey("machine_shape", "\"NvidiaTeslaV100\""),
        {QStringLiteral("machine_shape \"NvidiaTeslaV100\" is not a known accelerator"),
         QStringLiteral("NvidiaTeslaT4")});
    row("id with version", withKey("id", "\"alice/my-kernel/3\""),
        {QStringLiteral("id must be owner/kernel-slug without a /version part")});
    row("id without owner", withKey("id", "\"my-kernel\""),
        {QStringLiteral("id must be owner/kernel-slug, got \"my-kernel\"")});
    row("id empty owner", withKey("id", "\"/my-kernel\""),
        {QStringLiteral("id must be owner/kernel-slug")});
    row("id slug too short", withKey("id", "\"alice/abc\""),
        {QStringLiteral("at least five characters")});
    row("no id nor id_no", withKey("id", {}),
        {QStringLiteral("id (owner/kernel-slug) or id_no is required")});
    row("id_no not a number", withKey("id_no", "\"abc\""),
        {QStringLiteral("id_no must be a positive number, got \"abc\"")});
    row("id_no zero", withKey("id_no", "0"), {QStringLiteral("id_no must be a positive number")});
    row("id_no fraction", withKey("id_no", "1.5"),
        {QStringLiteral("id_no must be a positive number")});
    row("title too short", withKey("title", "\"abc\""),
        {QStringLiteral("title must be at least five characters, got \"abc\"")});
    row("title wrong type", withKey("title", "12345"), {QStringLiteral("title must be a string")});
    row("sources not a list", withKey("dataset_sources", "\"alice/ds\""),
        {QStringLiteral("dataset_sources must be a list of strings")});
    row("sources wrong element", withKey("keywords", "[\"a\", 1]"),
        {QStringLiteral("keywords must be a list of strings")});
    row("dataset source without owner", withKey("dataset_sources", "[\"mydata\"]"),
        {QStringLiteral("dataset_sources entry must be owner/dataset-slug, got \"mydata\"")});
    row("kernel source without owner", withKey("kernel_sources", "[\"prev\"]"),
        {QStringLiteral("kernel_sources entry must be owner/kernel-slug")});
    row("docker pinning", withKey("docker_image_pinning_type", "\"pinned\""),
        {QStringLiteral("docker_image_pinning_type must be original or latest, got \"pinned\"")});
    const QByteArray nbMeta = withKey("kernel_type", "\"notebook\"").replace("main.py", "nb.ipynb");
    row("notebook broken json", nbMeta,
        {QStringLiteral("code_file"), QStringLiteral("nb.ipynb"),
         QStringLiteral("is not a valid notebook (invalid JSON at line 2")},
        {{QStringLiteral("nb.ipynb"), "{\"cells\": [\n  {\"source\": [\"x\"],}\n]}"}});
    row("notebook not an object", nbMeta, {QStringLiteral("is not a notebook")},
        {{QStringLiteral("nb.ipynb"), "[1, 2]"}});
    row("notebook source not strings", nbMeta, {QStringLiteral("cell 0"), QStringLiteral("source")},
        {{QStringLiteral("nb.ipynb"),
          R"({"cells": [{"cell_type": "code", "source": ["a", 1]}]})"}});
    row("script not utf8", kGoodScript, {QStringLiteral("code_file"), QStringLiteral("not UTF-8")},
        {{QStringLiteral("main.py"), "print('\xff\xfe')\n"}});
}

void TestMetadata::badKernelFolders()
{
    QFETCH(Files, files);
    QFETCH(QStringList, messageContains);
    QTemporaryDir dir;
    QVERIFY(writeFiles(dir.path(), files));
    const auto r = readKernelFolder(dir.path());
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, ApiError::Kind::Invalid);
    QVERIFY2(r.error().message.startsWith(QStringLiteral("kernel-metadata.json: ")),
             qPrintable(r.error().message));
    for (const QString &c : messageContains)
        QVERIFY2(r.error().message.contains(c), qPrintable(r.error().message));
}

void TestMetadata::writeReadRoundTrip()
{
    KernelFolderMetadata m;
    m.id = QStringLiteral("alice/round-trip");
    m.idNo = 555;
    m.title = QStringLiteral("Round trip \u00e9");
    m.codeFile = QStringLiteral("code/run.py");
    m.language = QStringLiteral("python");
    m.kernelType = QStringLiteral("script");
    m.isPrivate = false;
    m.enableGpu = true;
    m.enableTpu = false;
    m.enableInternet = false;
    m.machineShape = QStringLiteral("TpuV5E8");
    m.datasetSources = {QStringLiteral("alice/ds-one"), QStringLiteral("bob/ds-two")};
    m.competitionSources = {QStringLiteral("titanic")};
    m.kernelSources = {QStringLiteral("alice/previous-epoch")};
    m.modelSources = {QStringLiteral("google/gemma/pyTorch/2b/1")};
    m.keywords = {QStringLiteral("tpu")};
    m.dockerImagePinningType = QStringLiteral("latest");
    m.dockerImage = QStringLiteral("gcr.io/kaggle-images/python@sha256:abc");

    QTemporaryDir dir;
    const QString folder = dir.filePath(QStringLiteral("new/kernel"));
    const QString code = QStringLiteral("print('hello')\n");
    const auto w = writeKernelFolder(folder, m, code);
    QVERIFY2(w.ok(), w.ok() ? "" : qPrintable(w.error().message));
    QCOMPARE(QDir(folder).entryList(QDir::Files),
             QStringList{QStringLiteral("kernel-metadata.json")});

    const QByteArray text = readAll(QDir(folder).filePath(QStringLiteral("kernel-metadata.json")));
    // Pretty (indent 2) and in the CLI's key order.
    QVERIFY(text.startsWith("{\n  \"id\": \"alice/round-trip\",\n  \"id_no\": 555,\n"));
    const QList<QByteArray> order = {"\"id\"",
                                     "\"id_no\"",
                                     "\"title\"",
                                     "\"code_file\"",
                                     "\"language\"",
                                     "\"kernel_type\"",
                                     "\"is_private\"",
                                     "\"enable_gpu\"",
                                     "\"enable_tpu\"",
                                     "\"enable_internet\"",
                                     "\"dataset_sources\"",
                                     "\"competition_sources\"",
                                     "\"kernel_sources\"",
                                     "\"model_sources\"",
                                     "\"keywords\"",
                                     "\"docker_image_pinning_type\"",
                                     "\"docker_image\"",
                                     "\"machine_shape\""};
    qsizetype last = -1;
    for (const QByteArray &key : order) {
        const qsizetype at = text.indexOf(QByteArray(key + ':'));
        QVERIFY2(at > last, key.constData());
        last = at;
    }

    const auto r = readKernelFolder(folder);
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    const KernelFolderMetadata &b = r->metadata;
    QCOMPARE(b.id, m.id);
    QCOMPARE(b.idNo, m.idNo);
    QCOMPARE(b.title, m.title);
    QCOMPARE(b.codeFile, m.codeFile);
    QCOMPARE(b.language, m.language);
    QCOMPARE(b.kernelType, m.kernelType);
    QCOMPARE(b.isPrivate, m.isPrivate);
    QCOMPARE(b.enableGpu, m.enableGpu);
    QCOMPARE(b.enableTpu, m.enableTpu);
    QCOMPARE(b.enableInternet, m.enableInternet);
    QCOMPARE(b.machineShape, m.machineShape);
    QCOMPARE(b.datasetSources, m.datasetSources);
    QCOMPARE(b.competitionSources, m.competitionSources);
    QCOMPARE(b.kernelSources, m.kernelSources);
    QCOMPARE(b.modelSources, m.modelSources);
    QCOMPARE(b.keywords, m.keywords);
    QCOMPARE(b.dockerImagePinningType, m.dockerImagePinningType);
    QCOMPARE(b.dockerImage, m.dockerImage);
    QCOMPARE(r->codeText, code);

    // Without optional keys: no docker/machine keys, empty lists still written.
    KernelFolderMetadata minimal;
    minimal.id = QStringLiteral("alice/minimal-one");
    minimal.codeFile = QStringLiteral("m.py");
    minimal.language = QStringLiteral("python");
    minimal.kernelType = QStringLiteral("script");
    QVERIFY(writeKernelFolder(folder, minimal).ok());
    const QByteArray minimalText =
        readAll(QDir(folder).filePath(QStringLiteral("kernel-metadata.json")));
    QVERIFY(!minimalText.contains("machine_shape"));
    QVERIFY(!minimalText.contains("docker_image"));
    QVERIFY(!minimalText.contains("id_no"));
    QVERIFY(minimalText.contains("\"dataset_sources\": []"));
}

void TestMetadata::writeFailsCleanly()
{
    QTemporaryDir dir;
    // The folder path is a file: nothing can be written.
    QVERIFY(writeFiles(dir.path(), {{QStringLiteral("blocker"), "x"}}));
    KernelFolderMetadata m;
    m.id = QStringLiteral("alice/blocked-one");
    m.codeFile = QStringLiteral("a.py");
    const auto w =
        writeKernelFolder(dir.filePath(QStringLiteral("blocker")), m, QStringLiteral("x"));
    QVERIFY(!w.ok());
    QCOMPARE(w.error().kind, ApiError::Kind::Io);
    QCOMPARE(readAll(dir.filePath(QStringLiteral("blocker"))), QByteArray("x"));
    // A read-only folder: the old metadata stays intact, no temp file is left behind.
    const QString ro = dir.filePath(QStringLiteral("ro"));
    QVERIFY(writeFiles(ro, {{QStringLiteral("kernel-metadata.json"), "{\"old\": true}"}}));
    QVERIFY(QFile::setPermissions(ro, QFileDevice::ReadOwner | QFileDevice::ExeOwner));
    if (QFileInfo(ro).isWritable())
        QSKIP("running as root: permissions are not enforced");
    const auto w2 = writeKernelFolder(ro, m);
    QVERIFY(!w2.ok());
    QCOMPARE(w2.error().kind, ApiError::Kind::Io);
    QCOMPARE(readAll(QDir(ro).filePath(QStringLiteral("kernel-metadata.json"))),
             QByteArray("{\"old\": true}"));
    QCOMPARE(QDir(ro).entryList(QDir::Files | QDir::Hidden).size(), 1);
    QVERIFY(QFile::setPermissions(ro, QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                          QFileDevice::ExeOwner));
}

void TestMetadata::fromPullAsCliDoes()
{
    KernelPull pull;
    pull.metadata.id = 31337;
    pull.metadata.ref = QStringLiteral("alice/pulled-kernel");
    pull.metadata.title = QStringLiteral("Pulled Kernel");
    pull.metadata.language = QStringLiteral("python");
    pull.metadata.kernelType = QStringLiteral("notebook");
    pull.metadata.isPrivate = true;
    pull.metadata.enableGpu = true;
    pull.metadata.enableTpu = false;
    pull.metadata.enableInternet = false;
    pull.metadata.categoryIds = {QStringLiteral("gpu")};
    pull.metadata.datasetDataSources = {QStringLiteral("alice/ds")};
    pull.metadata.kernelDataSources = {QStringLiteral("alice/prev-kernel")};
    pull.metadata.competitionDataSources = {QStringLiteral("titanic")};
    pull.metadata.modelDataSources = {QStringLiteral("m/o/d/e/1")};
    pull.metadata.dockerImage = QStringLiteral("gcr.io/kaggle-gpu-images/python@sha256:1");
    pull.metadata.machineShape = QStringLiteral("NvidiaTeslaT4");
    pull.blob = {QStringLiteral("{}"), QStringLiteral("python"), QStringLiteral("notebook"),
                 QStringLiteral("pulled-kernel")};
    const QString codeFile = defaultCodeFileName(pull.blob);
    QCOMPARE(codeFile, QStringLiteral("pulled-kernel.ipynb"));
    const KernelFolderMetadata m = fromPull(pull, codeFile);
    QCOMPARE(m.id, QStringLiteral("alice/pulled-kernel"));
    QCOMPARE(m.idNo, std::optional<qint64>(31337));
    QCOMPARE(m.title, QStringLiteral("Pulled Kernel"));
    QCOMPARE(m.codeFile, codeFile);
    QCOMPARE(m.language, QStringLiteral("python"));
    QCOMPARE(m.kernelType, QStringLiteral("notebook"));
    QCOMPARE(m.isPrivate, true);
    QCOMPARE(m.enableGpu, true);
    QCOMPARE(m.enableInternet, false);
    QCOMPARE(m.keywords, pull.metadata.categoryIds);
    QCOMPARE(m.datasetSources, pull.metadata.datasetDataSources);
    QCOMPARE(m.kernelSources, pull.metadata.kernelDataSources);
    QCOMPARE(m.competitionSources, pull.metadata.competitionDataSources);
    QCOMPARE(m.modelSources, pull.metadata.modelDataSources);
    QCOMPARE(m.dockerImage, pull.metadata.dockerImage);
    QCOMPARE(m.machineShape, pull.metadata.machineShape);

    // pull -m then push: the folder reads back.
    QTemporaryDir dir;
    QVERIFY(writeKernelFolder(dir.path(), m, pull.blob.source).ok());
    const auto r = readKernelFolder(dir.path());
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    QCOMPARE(r->codeText, QStringLiteral("{}"));
    QCOMPARE(toSaveKernelRequest(*r).dockerImage, pull.metadata.dockerImage);
}

void TestMetadata::defaultCodeFileNames_data()
{
    QTest::addColumn<QString>("language");
    QTest::addColumn<QString>("kernelType");
    QTest::addColumn<QString>("slug");
    QTest::addColumn<QString>("expected");
    const auto row = [](const char *name, const char *language, const char *type, const char *slug,
                        const char *expected) {
        QTest::newRow(name) << QString::fromUtf8(language) << QString::fromUtf8(type)
                            << QString::fromUtf8(slug) << QString::fromUtf8(expected);
    };
    // The CLI's kernels_pull table (kaggle-api.md 3.7); "script.py" is its fallback.
    row("py", "python", "script", "k", "k.py");
    row("R", "r", "script", "k", "k.R");
    row("Rmd", "rmarkdown", "script", "k", "k.Rmd");
    row("sql", "sqlite", "script", "k", "k.sql");
    row("jl", "julia", "script", "k", "k.jl");
    row("ipynb", "Python", "NOTEBOOK", "k", "k.ipynb");
    row("irnb", "r", "notebook", "k", "k.irnb");
    row("ijlnb", "julia", "notebook", "k", "k.ijlnb");
    row("unknown", "cobol", "script", "k", "script.py");
    row("hostile slug", "python", "script", "../../etc/passwd", "passwd.py");
    row("dots only", "python", "script", "..", "kernel.py");
    row("empty slug", "python", "script", "", "kernel.py");
}

void TestMetadata::defaultCodeFileNames()
{
    QFETCH(QString, language);
    QFETCH(QString, kernelType);
    QFETCH(QString, slug);
    QFETCH(QString, expected);
    QCOMPARE(defaultCodeFileName(KernelBlob{{}, language, kernelType, slug}), expected);
}

void TestMetadata::datasetFixtures()
{
    const auto r = readDatasetMetadata(dataDir("dataset"));
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    QCOMPARE(r->title, QStringLiteral("ImageNet subset 2026"));
    QCOMPARE(r->id, QStringLiteral("alice/imagenet-subset"));
    QVERIFY(!r->idNo);
    QCOMPARE(r->subtitle, QStringLiteral("A small subset of ImageNet for quick tests"));
    QCOMPARE(r->description, QStringLiteral("# Readme\nTen classes."));
    QCOMPARE(r->license, QStringLiteral("CC0-1.0"));
    QCOMPARE(r->keywords,
             (QStringList{QStringLiteral("computer vision"), QStringLiteral("images")}));

    const auto legacy = readDatasetMetadata(dataDir("dataset_legacy"));
    QVERIFY2(legacy.ok(), legacy.ok() ? "" : qPrintable(legacy.error().message));
    QCOMPARE(legacy->idNo, std::optional<qint64>(42));
    QCOMPARE(legacy->license, QStringLiteral("CC-BY-SA-4.0")); // canonical spelling
    QCOMPARE(knownLicenses().size(), 28);
    QCOMPARE(knownMachineShapes().size(), 12);
}

void TestMetadata::badDatasets_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("messageContains");

    const auto ds = [](const QString &title, const QString &id, const QByteArray &licenses,
                       const QString &subtitle = {}) -> QByteArray {
        QByteArray j =
            "{\"title\": " +
            QJsonDocument(QJsonArray{title}).toJson(QJsonDocument::Compact).mid(1).chopped(1) +
            ", \"id\": " +
            QJsonDocument(QJsonArray{id}).toJson(QJsonDocument::Compact).mid(1).chopped(1) +
            ", \"licenses\": " + licenses;
        if (!subtitle.isEmpty())
            j += ", \"subtitle\": \"" + subtitle.toUtf8() + '"';
        return j + '}';
    };
    const QByteArray cc0 = R"([{"name": "CC0-1.0"}])";
    const QString title = QStringLiteral("Good title");
    const QString id = QStringLiteral("alice/good-slug");

    QTest::newRow("no licence")
        << ds(title, id, "[]")
        << QStringLiteral("dataset-metadata.json: licenses must contain exactly one licence");
    QTest::newRow("two licences")
        << ds(title, id, R"([{"name": "CC0-1.0"}, {"name": "PDDL"}])")
        << QStringLiteral("dataset-metadata.json: licenses must contain exactly one licence");
    QTest::newRow("licenses missing")
        << QByteArray(R"({"title": "Good title", "id": "alice/good-slug"})")
        << QStringLiteral("licenses must contain exactly one licence");
    QTest::newRow("licenses not a list")
        << ds(title, id, "\"CC0-1.0\"") << QStringLiteral("licenses must be a list");
    QTest::newRow("licence without name") << ds(title, id, R"([{"id": "CC0-1.0"}])")
                                          << QStringLiteral("licenses[0].name is required");
    QTest::newRow("unknown licence")
        << ds(title, id, R"([{"name": "MIT"}])")
        << QStringLiteral("licenses: \"MIT\" is not a known licence name");
    QTest::newRow("slug 5") << ds(title, QStringLiteral("alice/abcde"), cc0)
                            << QStringLiteral(
                                   "dataset slug must be between 6 and 50 characters, got 5");
    QTest::newRow("slug 51") << ds(title, QStringLiteral("alice/") + QString(51, u'a'), cc0)
                             << QStringLiteral(
                                    "dataset slug must be between 6 and 50 characters, got 51");
    QTest::newRow("title 5") << ds(QStringLiteral("Short"), id, cc0)
                             << QStringLiteral("title must be between 6 and 50 characters, got 5");
    QTest::newRow("title 51") << ds(QString(51, u'T'), id, cc0)
                              << QStringLiteral(
                                     "title must be between 6 and 50 characters, got 51");
    QTest::newRow("subtitle 19") << ds(title, id, cc0, QString(19, u's'))
                                 << QStringLiteral(
                                        "subtitle must be between 20 and 80 characters, got 19");
    QTest::newRow("subtitle 81") << ds(title, id, cc0, QString(81, u's'))
                                 << QStringLiteral(
                                        "subtitle must be between 20 and 80 characters, got 81");
    QTest::newRow("slug placeholder") << ds(title, QStringLiteral("alice/INSERT_SLUG_HERE"), cc0)
                                      << QStringLiteral("INSERT_SLUG_HERE");
    QTest::newRow("title placeholder")
        << ds(QStringLiteral("INSERT_TITLE_HERE"), id, cc0)
        << QStringLiteral("title still holds the placeholder INSERT_TITLE_HERE");
    QTest::newRow("no id") << QByteArray(
                                  R"({"title": "Good title", "licenses": [{"name": "CC0-1.0"}]})")
                           << QStringLiteral("id (owner/dataset-slug) or id_no is required");
    QTest::newRow("id without owner") << ds(title, QStringLiteral("good-slug"), cc0)
                                      << QStringLiteral("id must be owner/dataset-slug");
    QTest::newRow("broken json") << QByteArray("{\"title\": \"x\",\n\"id\": }")
                                 << QStringLiteral(
                                        "dataset-metadata.json: invalid JSON at line 2, column 7");
    QTest::newRow("keywords wrong type") << QByteArray(R"({"keywords": "a,b"})")
                                         << QStringLiteral("keywords must be a list of strings");
}

void TestMetadata::badDatasets()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, messageContains);
    QTemporaryDir dir;
    QVERIFY(writeFiles(dir.path(), {{QStringLiteral("dataset-metadata.json"), json}}));
    const auto r = readDatasetMetadata(dir.path());
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, ApiError::Kind::Invalid);
    QVERIFY2(r.error().message.contains(messageContains), qPrintable(r.error().message));
}

void TestMetadata::datasetWriteReadRoundTrip()
{
    DatasetFolderMetadata m = goodDataset();
    m.idNo = 9001;
    m.description = QStringLiteral("Line one\nLine two \u00e9");
    m.keywords = {QStringLiteral("images")};
    QVERIFY(!validateDatasetMetadata(m).has_value());
    QTemporaryDir dir;
    QVERIFY(writeDatasetMetadata(dir.path(), m).ok());
    const auto r = readDatasetMetadata(dir.path());
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    QCOMPARE(r->title, m.title);
    QCOMPARE(r->id, m.id);
    QCOMPARE(r->idNo, m.idNo);
    QCOMPARE(r->subtitle, m.subtitle);
    QCOMPARE(r->description, m.description);
    QCOMPARE(r->license, m.license);
    QCOMPARE(r->keywords, m.keywords);
    const QByteArray text =
        readAll(QDir(dir.path()).filePath(QStringLiteral("dataset-metadata.json")));
    QVERIFY(text.contains("\"licenses\": [\n    {\n      \"name\": \"CC0-1.0\"\n    }\n  ]"));

    // The validation alone, as a dialog uses it: the field is named.
    DatasetFolderMetadata bad = goodDataset();
    bad.subtitle = QStringLiteral("too short");
    const auto e = validateDatasetMetadata(bad);
    QVERIFY(e.has_value());
    QCOMPARE(e->kind, ApiError::Kind::Invalid);
    QVERIFY(e->message.startsWith(QStringLiteral("subtitle")));
    bad = goodDataset();
    bad.license.clear();
    QVERIFY(validateDatasetMetadata(bad)->message.contains(QStringLiteral("licenses")));
    bad = goodDataset();
    bad.id.clear();
    bad.idNo = 5; // a version by id needs no slug
    QVERIFY(!validateDatasetMetadata(bad).has_value());
}

QTEST_APPLESS_MAIN(TestMetadata)
#include "tst_metadata.moc"
