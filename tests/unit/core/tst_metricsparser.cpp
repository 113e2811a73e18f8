// Metric series from training logs: one row per format with its series, values, epoch and
// step; lines that must not yield metrics; user patterns; the remaining-time estimate.

#include "metricsparser.h"

#include <QTest>

#include <cmath>
#include <limits>

using namespace kd;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

bool same(double a, double b)
{
    if (std::isnan(a) || std::isnan(b))
        return std::isnan(a) && std::isnan(b);
    if (std::isinf(a) || std::isinf(b))
        return a == b;
    return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(b));
}

/// "loss,acc" -> {"loss", "acc"}; series names never contain commas.
QStringList names(const char *list)
{
    const QString s = QString::fromUtf8(list);
    return s.isEmpty() ? QStringList{} : s.split(u',');
}

QString describe(const QList<MetricPoint> &points)
{
    QStringList parts;
    for (const MetricPoint &p : points)
        parts << QStringLiteral("%1=%2 (epoch %3, step %4)")
                     .arg(p.series)
                     .arg(p.value)
                     .arg(p.epoch)
                     .arg(p.step);
    return parts.join(QStringLiteral("; "));
}

LogLine logLine(const QString &text, double time, bool superseded = false)
{
    LogLine l;
    l.text = text;
    l.time = time;
    l.superseded = superseded;
    return l;
}

} // namespace

class TstMetricsParser : public QObject
{
    Q_OBJECT

private slots:
    void formats_data()
    {
        QTest::addColumn<QStringList>("before"); // context lines parsed first
        QTest::addColumn<QString>("line");
        QTest::addColumn<QStringList>("series");
        QTest::addColumn<QList<double>>("values");
        QTest::addColumn<double>("epoch"); // NaN: unknown
        QTest::addColumn<qint64>("step");  // -1: unknown

        // Hugging Face Trainer
        QTest::newRow("hf train dict")
            << QStringList{}
            << QStringLiteral(
                   "{'loss': 0.41, 'grad_norm': 1.2, 'learning_rate': 2e-05, 'epoch': 1.0}")
            << names("loss,grad_norm,learning_rate") << QList<double>{0.41, 1.2, 2e-05} << 1.0
            << qint64(-1);
        QTest::newRow("hf eval dict")
            << QStringList{}
            << QStringLiteral("{'eval_loss': 0.3, 'eval_accuracy': 0.91, 'eval_runtime': 12.3456, "
                              "'epoch': 1.0}")
            << names("eval_loss,eval_accuracy,eval_runtime") << QList<double>{0.3, 0.91, 12.3456}
            << 1.0 << qint64(-1);
        QTest::newRow("hf nan, inf and strings")
            << QStringList{}
            << QStringLiteral("{'loss': nan, 'note': 'skip, me', 'grad_norm': inf, 'tags': "
                              "['a', 'b'], 'learning_rate': -inf, 'epoch': 0.5}")
            << names("loss,grad_norm,learning_rate") << QList<double>{kNaN, kInf, -kInf} << 0.5
            << qint64(-1);
        QTest::newRow("hf numpy 2 repr")
            << QStringList{} << QStringLiteral("{'eval_loss': np.float64(0.25), 'epoch': 2.0}")
            << names("eval_loss") << QList<double>{0.25} << 2.0 << qint64(-1);
        QTest::newRow("hf dict with step")
            << QStringList{} << QStringLiteral("{'loss': 0.5, 'step': 120, 'epoch': 0.12}")
            << names("loss") << QList<double>{0.5} << 0.12 << qint64(120);
        QTest::newRow("json-style dict")
            << QStringList{} << QStringLiteral(R"({"train/loss": 0.7, "global_step": 30})")
            << names("train/loss") << QList<double>{0.7} << kNaN << qint64(30);
        QTest::newRow("hf step from the training bar")
            << QStringList{QStringLiteral("  Total optimization steps = 1,000"),
                           QStringLiteral(" 45%|████▌     | 450/1000 [00:30<00:37, 14.90it/s]"),
                           QStringLiteral(" 30%|███       | 3/10 [00:01<00:02,  4.00it/s]")}
            << QStringLiteral("{'loss': 0.4, 'epoch': 0.45}") << names("loss") << QList<double>{0.4}
            << 0.45 << qint64(450);

        // Keras
        QTest::newRow("keras 2 epoch end")
            << QStringList{QStringLiteral("Epoch 3/10")}
            << QStringLiteral("500/500 [==============================] - 12s 24ms/step - loss: "
                              "0.1234 - accuracy: 0.9500 - val_loss: 0.2000 - val_accuracy: 0.9300")
            << names("loss,accuracy,val_loss,val_accuracy")
            << QList<double>{0.1234, 0.95, 0.2, 0.93} << 3.0 << qint64(500);
        QTest::newRow("keras 2 progress")
            << QStringList{QStringLiteral("Epoch 1/5")}
            << QStringLiteral(" 12/500 [>.............................] - ETA: 1:02 - loss: 2.3026 "
                              "- accuracy: 0.1016")
            << names("loss,accuracy") << QList<double>{2.3026, 0.1016} << 1.0 << qint64(12);
        QTest::newRow("keras 3")
            << QStringList{QStringLiteral("Epoch 2/4")}
            << QStringLiteral("500/500 ━━━━━━━━━━━━━━━━━━━━ 12s 24ms/step - accuracy: 0.9500 - "
                              "loss: 0.1234")
            << names("accuracy,loss") << QList<double>{0.95, 0.1234} << 2.0 << qint64(500);

        // tqdm
        QTest::newRow("tqdm postfix with epoch description")
            << QStringList{}
            << QStringLiteral("Epoch 2/10:  45%|████▌     | 450/1000 [00:30<00:37, 14.9it/s, "
                              "loss=0.412, lr=1e-4]")
            << names("loss,lr") << QList<double>{0.412, 1e-4} << 2.0 << qint64(450);
        QTest::newRow("tqdm postfix without description")
            << QStringList{}
            << QStringLiteral(" 45%|████▌     | 450/1000 [00:30<00:37, 14.90it/s, loss=0.412]")
            << names("loss") << QList<double>{0.412} << kNaN << qint64(450);
        QTest::newRow("tqdm evaluation bar keeps the training step")
            << QStringList{QStringLiteral("train: 100%|██████████| 800/800 [01:00<00:00, "
                                          "13.3it/s, loss=0.3]")}
            << QStringLiteral("Evaluating:  50%|█████     | 5/10 [00:01<00:01, 5.0it/s, "
                              "eval_loss=0.35]")
            << names("eval_loss") << QList<double>{0.35} << kNaN << qint64(800);

        // key=value and key: value
        QTest::newRow("key=value")
            << QStringList{} << QStringLiteral("step=120 loss=0.5 acc=0.91") << names("loss,acc")
            << QList<double>{0.5, 0.91} << kNaN << qint64(120);
        QTest::newRow("epoch and step as N/M")
            << QStringList{} << QStringLiteral("epoch=2 step=10/100 loss=0.4321 lr=2.00e-05")
            << names("loss,lr") << QList<double>{0.4321, 2e-05} << 2.0 << qint64(10);
        QTest::newRow("key: value with slashes")
            << QStringList{} << QStringLiteral("Step 100 | train/loss: 0.35 | val/acc: 0.8")
            << names("train/loss,val/acc") << QList<double>{0.35, 0.8} << kNaN << qint64(-1);
        QTest::newRow("spaced =") << QStringList{} << QStringLiteral("loss = 0.5, acc = 0.75")
                                  << names("loss,acc") << QList<double>{0.5, 0.75} << kNaN
                                  << qint64(-1);
        QTest::newRow("logging prefix")
            << QStringList{}
            << QStringLiteral("2024-05-01 12:30:01,123 INFO trainer: epoch: 3, loss: 1.25e-1")
            << names("loss") << QList<double>{0.125} << 3.0 << qint64(-1);
        QTest::newRow("quoted percentage and a path are skipped")
            << QStringList{} << QStringLiteral(R"(epoch 1/3 loss=0.6931 acc="51%" path=C:\tmp\x)")
            << names("loss") << QList<double>{0.6931} << 1.0 << qint64(-1);
        QTest::newRow("negative and exponent")
            << QStringList{} << QStringLiteral("val_loss=-1.5e-3 delta=+2")
            << names("val_loss,delta") << QList<double>{-0.0015, 2.0} << kNaN << qint64(-1);
        QTest::newRow("nan loss") << QStringList{}
                                  << QStringLiteral("step 7: loss: NaN, grad_norm: nan")
                                  << names("loss,grad_norm") << QList<double>{kNaN, kNaN} << kNaN
                                  << qint64(-1);
        QTest::newRow("dotted key")
            << QStringList{} << QStringLiteral("metrics.top1=0.77") << names("metrics.top1")
            << QList<double>{0.77} << kNaN << qint64(-1);
        QTest::newRow("sentence end")
            << QStringList{} << QStringLiteral("Best val_acc=0.93.") << names("val_acc")
            << QList<double>{0.93} << kNaN << qint64(-1);
    }

    void formats()
    {
        QFETCH(QStringList, before);
        QFETCH(QString, line);
        QFETCH(QStringList, series);
        QFETCH(QList<double>, values);
        QFETCH(double, epoch);
        QFETCH(qint64, step);

        MetricsParser parser;
        for (const QString &b : before)
            parser.parseLine(b, 1);
        const QList<MetricPoint> points = parser.parseLine(line, 42.5);
        QVERIFY2(points.size() == series.size(), qPrintable(describe(points)));
        for (qsizetype i = 0; i < points.size(); ++i) {
            const MetricPoint &p = points.at(i);
            QCOMPARE(p.series, series.at(i));
            QVERIFY2(same(p.value, values.at(i)), qPrintable(describe(points)));
            QVERIFY2(same(p.epoch, epoch), qPrintable(describe(points)));
            QCOMPARE(p.step, step);
            QCOMPARE(p.logTime, 42.5);
            QCOMPARE(p.sessionId, SessionId(0)); // the caller's to set
        }
    }

    void noMetrics_data()
    {
        QTest::addColumn<QString>("line");
        const char *lines[] = {
            "",
            "2024-05-01 12:30:01 INFO starting",
            "12:30:01",
            "Elapsed: 00:12:03",
            "ETA: 12s",
            "see https://pip.pypa.io/warnings/venv",
            "http://127.0.0.1:7777/api/v1/kernels?page=2&size=10",
            "Python 3.10.12",
            "torch==2.1.0",
            "transformers version: 4.41.2",
            "100%|██████████| 10/10 [00:01<00:00,  9.80it/s]",
            " 45%|████▌     | 450/1000 [00:30<00:37, 14.9it/s]",
            "Map: 100%|██████████| 25000/25000 [00:05<00:00, 4800.00 examples/s]",
            "Collecting peft==0.11.1",
            "  Downloading peft-0.11.1-py3-none-any.whl.metadata (13 kB)",
            "Successfully installed peft-0.11.1",
            "Requirement already satisfied: numpy>=1.21 in /usr/local/lib/python3.10/dist-packages "
            "(1.26.4)",
            "WARNING: Running pip as the 'root' user can result in broken permissions",
            "/usr/local/lib/python3.10/dist-packages/torch/cuda/__init__.py:83: UserWarning: CUDA "
            "initialization",
            "  Num examples = 25,000",
            "  Num Epochs = 3",
            "  Instantaneous batch size per device = 16",
            "  Total optimization steps = 3,000",
            "Total params: 1,234,567",
            "Trainable params: 7851",
            "GPU 0 has a total capacity of 14.74 GiB of which 1.12 GiB is free.",
            "acc: 91.5%",
            "Using device: cuda (2 x Tesla T4, 15.0 GiB each)",
            "Saving checkpoint to /kaggle/working/checkpoint-epoch1",
            "Epoch 1/3",
            "a=1.2.3 b=12:30 size=10MB rate=50% ratio=3/4x",
            "print(f'loss={loss}')",
            "if x != 1 and y >= 2: pass",
            "{'model': 'bert-base-uncased', 'lr_scheduler': None}",
            "  File \"/kaggle/working/train.py\", line 214, in <module>",
        };
        for (const char *l : lines)
            QTest::newRow(l) << QString::fromUtf8(l);
    }

    void noMetrics()
    {
        QFETCH(QString, line);
        MetricsParser parser;
        const QList<MetricPoint> points = parser.parseLine(line, 1);
        QVERIFY2(points.isEmpty(), qPrintable(describe(points)));
    }

    void userPatterns_data()
    {
        QTest::addColumn<QStringList>("patterns");
        QTest::addColumn<QString>("line");
        QTest::addColumn<QStringList>("series");
        QTest::addColumn<QList<double>>("values");

        QTest::newRow("one capture")
            << QStringList{QStringLiteral("top1 (?<acc>[0-9.]+)")}
            << QStringLiteral("Test: top1 91.5 top5 99.1") << names("acc") << QList<double>{91.5};
        QTest::newRow("several captures")
            << QStringList{QStringLiteral(R"(top1 (?<top1>[0-9.]+) top5 (?<top5>[0-9.]+))")}
            << QStringLiteral("Test: top1 91.5 top5 99.1") << names("top1,top5")
            << QList<double>{91.5, 99.1};
        QTest::newRow("non-numeric capture skipped")
            << QStringList{QStringLiteral(R"(mode (?<mode>\w+) score (?<score>\S+))")}
            << QStringLiteral("mode fast score 0.5") << names("score") << QList<double>{0.5};
        QTest::newRow("no match") << QStringList{QStringLiteral("bleu (?<bleu>[0-9.]+)")}
                                  << QStringLiteral("rouge 0.3") << QStringList{}
                                  << QList<double>{};
        QTest::newRow("a series found by the built-in formats is not doubled")
            << QStringList{QStringLiteral("wer=(?<wer>[0-9.]+)"),
                           QStringLiteral("cer=(?<cer>[0-9.]+)")}
            << QStringLiteral("loss=0.2 wer=0.15 cer=0.05") << names("loss,wer,cer")
            << QList<double>{0.2, 0.15, 0.05};
    }

    void userPatterns()
    {
        QFETCH(QStringList, patterns);
        QFETCH(QString, line);
        QFETCH(QStringList, series);
        QFETCH(QList<double>, values);
        MetricsParser parser;
        QVERIFY(parser.setUserPatterns(patterns).isEmpty());
        const QList<MetricPoint> points = parser.parseLine(line, 3);
        QStringList got;
        for (const MetricPoint &p : points)
            got << p.series;
        QCOMPARE(got, series);
        for (qsizetype i = 0; i < points.size(); ++i)
            QVERIFY(same(points.at(i).value, values.at(i)));
    }

    void badUserPatterns()
    {
        MetricsParser parser;
        const QStringList errors = parser.setUserPatterns({QStringLiteral("top1 (?<acc>[0-9.]+"),
                                                           QStringLiteral("no named ([0-9]+)"),
                                                           QStringLiteral("ok (?<ok>[0-9]+)")});
        QCOMPARE(errors.size(), 2);
        QVERIFY(errors.at(0).startsWith(QStringLiteral("top1 (?<acc>[0-9.]+:")));
        QVERIFY(errors.at(1).contains(QStringLiteral("named capture")));
        const QList<MetricPoint> points = parser.parseLine(QStringLiteral("ok 7"), 0);
        QCOMPARE(points.size(), 1);
        QCOMPARE(points.first().series, QStringLiteral("ok"));
    }

    void contextCarriesAcrossLines()
    {
        MetricsParser parser;
        QVERIFY(std::isnan(parser.epoch()));
        QCOMPARE(parser.step(), qint64(-1));
        parser.parseLine(QStringLiteral("Epoch 4/12"), 10);
        QCOMPARE(parser.epoch(), 4.0);
        QCOMPARE(parser.totalEpochs(), 12);
        parser.parseLine(QStringLiteral("global_step=300"), 11);
        QCOMPARE(parser.step(), qint64(300));
        const QList<MetricPoint> points = parser.parseLine(QStringLiteral("val_loss: 0.25"), 12);
        QCOMPARE(points.size(), 1);
        QCOMPARE(points.first().epoch, 4.0);
        QCOMPARE(points.first().step, qint64(300));
        parser.reset();
        QVERIFY(std::isnan(parser.epoch()));
        QCOMPARE(parser.step(), qint64(-1));
    }

    void nanLossIsAPoint()
    {
        MetricsParser parser;
        const QList<MetricPoint> points = parser.parseLine(
            QStringLiteral("{'loss': nan, 'learning_rate': 1e-05, 'epoch': 2.3}"), 5);
        QCOMPARE(points.size(), 2);
        QCOMPARE(points.first().series, QStringLiteral("loss"));
        QVERIFY(std::isnan(points.first().value));
    }

    void supersededProgressStatesAreParsed()
    {
        // Each tqdm update is one superseded LogLine; all of them are data points.
        MetricsParser parser;
        QList<MetricPoint> points;
        parser.parseLines(
            {logLine(
                 QStringLiteral("train:  10%|█         | 10/100 [00:01<00:09, 10.0it/s, loss=0.9]"),
                 1, true),
             logLine(
                 QStringLiteral("train:  20%|██        | 20/100 [00:02<00:08, 10.0it/s, loss=0.8]"),
                 2, true),
             logLine(QStringLiteral(
                         "train: 100%|██████████| 100/100 [00:10<00:00, 10.0it/s, loss=0.5]"),
                     10)},
            points);
        QCOMPARE(points.size(), 3);
        QCOMPARE(points.at(0).step, qint64(10));
        QCOMPARE(points.at(1).step, qint64(20));
        QCOMPARE(points.at(2).step, qint64(100));
        QCOMPARE(points.at(2).value, 0.5);
        QCOMPARE(points.at(1).logTime, 2.0);
    }

    void eta_data()
    {
        QTest::addColumn<QStringList>("lines"); // "@<log time> <text>"
        QTest::addColumn<double>("eta");        // -1: no estimate
        QTest::addColumn<double>("at");

        QTest::newRow("no progress yet")
            << QStringList{QStringLiteral("@0 loading data")} << -1.0 << 0.0;
        QTest::newRow("hf global bar")
            << QStringList{QStringLiteral("@0   Total optimization steps = 1,000"),
                           QStringLiteral("@31  45%|████▌     | 450/1000 [00:30<00:37, 14.90it/s]")}
            << 37.0 << 31.0;
        QTest::newRow("an evaluation bar does not move the estimate")
            << QStringList{QStringLiteral("@0   Total optimization steps = 1,000"),
                           QStringLiteral("@31  45%|████▌     | 450/1000 [00:30<00:37, 14.90it/s]"),
                           QStringLiteral("@40  50%|█████     | 5/10 [00:01<00:01,  5.00it/s]")}
            << 37.0 << 31.0;
        QTest::newRow("hours in the tqdm clock")
            << QStringList{QStringLiteral(
                   "@600  10%|█         | 100/1000 [10:00<1:30:00,  0.17it/s]")}
            << 5400.0 << 600.0;
        QTest::newRow("tqdm per epoch: epochs to come at the bar's pace")
            << QStringList{QStringLiteral("@30 Epoch 2/4:  50%|█████     | 50/100 [00:30<00:30, "
                                          "1.67it/s, loss=0.5]")}
            << (30.0 + 2 * 60.0) << 30.0;
        QTest::newRow("keras first epoch: pace from the epoch start")
            << QStringList{QStringLiteral("@0 Epoch 1/3"),
                           QStringLiteral("@5 100/500 [=====>........................] - ETA: "
                                          "10s - loss: 0.9")}
            << (10.0 + 2 * 15.0) << 5.0;
        QTest::newRow("keras later epoch: measured epoch duration")
            << QStringList{QStringLiteral("@0 Epoch 1/3"), QStringLiteral("@20 Epoch 2/3"),
                           QStringLiteral("@30  300/500 [=================>............] - "
                                          "ETA: 5s - loss: 0.5")}
            << (5.0 + 20.0) << 30.0;
        QTest::newRow("keras new epoch before its bar")
            << QStringList{QStringLiteral("@0 Epoch 1/2"),
                           QStringLiteral("@12 500/500 [==============================] - 12s "
                                          "24ms/step - loss: 0.3"),
                           QStringLiteral("@15 Epoch 2/2")}
            << 15.0 << 15.0;
        QTest::newRow("training done")
            << QStringList{QStringLiteral("@0 Epoch 2/2"),
                           QStringLiteral("@12 500/500 [==============================] - 12s "
                                          "24ms/step - loss: 0.3")}
            << 0.0 << 12.0;
        QTest::newRow("keras 3 eta")
            << QStringList{QStringLiteral("@0 Epoch 3/3"),
                           QStringLiteral(
                               "@3  12/500 ━━━━━━━━━━━━━━━━━━━━ 1:02 128ms/step - loss: 0.5")}
            << 62.0 << 3.0;
    }

    void eta()
    {
        QFETCH(QStringList, lines);
        QFETCH(double, eta);
        QFETCH(double, at);
        MetricsParser parser;
        for (const QString &l : lines) {
            const qsizetype space = l.indexOf(u' ');
            parser.parseLine(QStringView(l).sliced(space + 1), l.mid(1, space - 1).toDouble());
        }
        const std::optional<double> got = parser.etaSeconds();
        if (eta < 0) {
            QVERIFY(!got);
            return;
        }
        QVERIFY(got.has_value());
        QCOMPARE(*got, eta);
        QCOMPARE(parser.etaLogTime(), at);
    }
};

QTEST_APPLESS_MAIN(TstMetricsParser)
#include "tst_metricsparser.moc"
