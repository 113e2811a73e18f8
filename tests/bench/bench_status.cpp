// Status of 200 kernels against the simulator with 50 ms of added latency, fetched
// sequentially and concurrently, through the real client, libcurl and loopback HTTP.
// Target: concurrent >= 20x faster than sequential and within 2x of the ideal
// ceil(200 / connections) x 50 ms.

#include "curlhttpclient.h"
#include "kaggleclient.h"
#include "simulator.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QTest>

#include <cmath>
#include <cstdio>

using namespace kd;

namespace {

constexpr int kKernels = 200;
constexpr int kLatencyMs = 50;

std::string scenario()
{
    std::string kernels;
    for (int i = 0; i < kKernels; ++i) {
        if (i)
            kernels += ',';
        kernels += R"({"ref":"bench/kernel-)" + std::to_string(i) + R"(","title":"Bench kernel )" +
                   std::to_string(i) +
                   R"(","machineShape":"","startAt":-100,"queueSeconds":10,"runSeconds":100000})";
    }
    return R"({"name":"bench","accounts":[{"username":"bench","key":"bench-key-000000"}],)"
           R"("kernels":[)" +
           kernels + "]}";
}

} // namespace

class BenchStatus : public QObject
{
    Q_OBJECT
    std::unique_ptr<sim::Simulator> m_sim;

    double run(KaggleClient &client, bool concurrent)
    {
        QElapsedTimer timer;
        timer.start();
        int done = 0;
        int failed = 0;
        std::function<void(int)> next;
        next = [&](int i) {
            const KernelRef ref{QStringLiteral("bench"), QStringLiteral("kernel-%1").arg(i)};
            client.getKernelSessionStatus(ref, nullptr, [&, i](Result<KernelSessionStatus> r) {
                ++done;
                failed += !r.ok();
                if (!concurrent && i + 1 < kKernels)
                    next(i + 1);
            });
        };
        if (concurrent) {
            for (int i = 0; i < kKernels; ++i)
                next(i);
        } else {
            next(0);
        }
        if (!QTest::qWaitFor([&] { return done == kKernels; }, 120'000))
            qFatal("benchmark did not finish");
        if (failed)
            qFatal("%d status calls failed", failed);
        return double(timer.nsecsElapsed()) / 1e6;
    }

private slots:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("kaggledeck.*.debug=false"));
        sim::Options options;
        options.speed = 0;
        options.faults.latencyMs = kLatencyMs;
        options.serverThreads = 96;
        m_sim = std::make_unique<sim::Simulator>(options);
        std::string error;
        QVERIFY2(m_sim->loadScenarioJson(scenario(), &error), error.c_str());
        QVERIFY(m_sim->start());
    }

    void sequentialVersusConcurrent()
    {
        KaggleClient::Options options;
        options.endpoint = QUrl(QString::fromStdString(m_sim->endpoint()));
        const Credentials credentials =
            Credentials::fromKey(QStringLiteral("bench"), QStringLiteral("bench-key-000000"));

        net::CurlHttpClient sequentialHttp({1, KaggleClient::userAgent()});
        KaggleClient sequentialClient(&sequentialHttp, credentials, options);
        const double sequentialMs = run(sequentialClient, false);

        std::printf("\nStatus of %d kernels, %d ms added latency per request\n", kKernels,
                    kLatencyMs);
        std::printf("  %-28s %10.1f ms\n", "sequential", sequentialMs);
        for (const int connections : {6, 16, 32, 64}) {
            net::CurlHttpClient http({connections, KaggleClient::userAgent()});
            KaggleClient client(&http, credentials, options);
            run(client, true); // warm the connection cache
            const double concurrentMs = run(client, true);
            const double ideal = std::ceil(double(kKernels) / connections) * kLatencyMs;
            std::printf("  concurrent, %2d connections  %10.1f ms   %5.1fx faster   "
                        "ideal %6.0f ms   %.2fx of ideal\n",
                        connections, concurrentMs, sequentialMs / concurrentMs, ideal,
                        concurrentMs / ideal);
        }
        std::fflush(stdout);
    }
};

QTEST_GUILESS_MAIN(BenchStatus)
#include "bench_status.moc"
