// chain ACTION: the chains of Deck::chains() (kd::ChainRunner) over the app's store.

#include "cli.h"

#include "chainrunner.h"
#include "deck.h"
#include "kaggleclient.h"
#include "store.h"

namespace kdcli {

namespace {

using State = kd::ChainRunner::State;

const QStringList kCreateOptions = {QStringLiteral("kernel"),   QStringLiteral("name"),
                                    QStringLiteral("handoff"),  QStringLiteral("checkpoint"),
                                    QStringLiteral("max-runs"), QStringLiteral("metric"),
                                    QStringLiteral("patience"), QStringLiteral("no-quota-rule")};

bool settled(State s)
{
    return s == State::Done || s == State::Stopped || s == State::Aborted || s == State::Paused;
}

QString time(const QDateTime &t)
{
    return t.isValid() ? t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                       : QStringLiteral("-");
}

QString stateLine(const kd::ChainRunner &chains, kd::ChainId id)
{
    const State s = chains.state(id);
    const QString reason = chains.reason(id);
    return QStringLiteral("chain %1: %2%3")
        .arg(id)
        .arg(kd::ChainRunner::stateId(s), reason.isEmpty() ? QString() : u" (" + reason + u')');
}

QString rulesText(const kd::ChainStopRules &r)
{
    QStringList parts;
    parts << QStringLiteral("at most %1 runs").arg(r.maxRuns);
    if (r.stopOnError)
        parts << QStringLiteral("on an error");
    if (!r.metric.isEmpty() && r.patience > 0)
        parts
            << QStringLiteral("when %1 has not improved for %2 runs").arg(r.metric).arg(r.patience);
    parts << (r.quotaRule ? QStringLiteral("when the quota cannot cover another run")
                          : QStringLiteral("quota rule off"));
    return parts.join(QStringLiteral("; "));
}

int show(const kd::ChainRunner &chains, kd::ChainId id)
{
    const auto chain = chains.chain(id);
    if (!chain) {
        err(QStringLiteral("no chain %1").arg(id));
        return NotFound;
    }
    const kd::ChainRecord &r = chain->record;
    out(QStringLiteral("Chain %1: %2").arg(id).arg(r.name));
    out(QStringLiteral("  kernel:     %1").arg(r.kernel.toString()));
    out(QStringLiteral("  handoff:    %1%2")
            .arg(kd::chainHandoffId(chain->handoff),
                 chain->progress.datasetRef.isEmpty()
                     ? QString()
                     : QStringLiteral(" (dataset %1)").arg(chain->progress.datasetRef)));
    out(QStringLiteral("  checkpoint: %1").arg(r.checkpointPattern));
    out(QStringLiteral("  stops:      %1").arg(rulesText(chain->rules)));
    out(QStringLiteral("  state:      %1%2")
            .arg(kd::ChainRunner::stateId(chain->state),
                 chains.reason(id).isEmpty() ? QString()
                                             : QStringLiteral(" (%1)").arg(chains.reason(id))));
    const kd::QuotaForecast::Usage usage = chains.usage(id);
    QString hours = QStringLiteral("%1 GPU").arg(kd::QuotaForecast::formatHours(usage.gpuSeconds));
    if (usage.tpuSeconds > 0)
        hours += QStringLiteral(", %1 TPU").arg(kd::QuotaForecast::formatHours(usage.tpuSeconds));
    out(QStringLiteral("  total:      %1").arg(hours));
    out(QStringLiteral("Steps:"));
    const QList<kd::ChainStepRecord> steps = chains.steps(id);
    if (steps.isEmpty())
        out(QStringLiteral("  (none yet)"));
    for (const kd::ChainStepRecord &s : steps)
        out(QStringLiteral("  %1  %2  %3 -> %4%5")
                .arg(s.step, 3)
                .arg(s.state, -10)
                .arg(time(s.startedAt), time(s.endedAt),
                     s.note.isEmpty() ? QString() : QStringLiteral("  ") + s.note));
    out(QStringLiteral("Log:"));
    const QList<kd::ChainLogEntry> log = chains.log(id);
    if (log.isEmpty())
        out(QStringLiteral("  (empty)"));
    for (const kd::ChainLogEntry &e : log)
        out(QStringLiteral("  %1  %2").arg(time(e.at), e.text));
    return Ok;
}

const QString kAutopilotHint = QStringLiteral(
    "The autopilot only advances while the KaggleDeck app or `kaggledeck-cli chain watch %1` "
    "runs.");

/// create: the spec from the options; nullopt after printing a usage error.
std::optional<kd::ChainSpec> specFrom(Context &c)
{
    kd::ChainSpec spec;
    const auto kernel = kd::KernelRef::parse(c.value(QStringLiteral("kernel")));
    if (!kernel) {
        err(QStringLiteral("chain create needs --kernel owner/slug"));
        return std::nullopt;
    }
    spec.kernel = *kernel;
    spec.name = c.isSet(QStringLiteral("name")) ? c.value(QStringLiteral("name"))
                                                : kernel->slug + QStringLiteral(" chain");
    if (c.isSet(QStringLiteral("handoff"))) {
        const auto handoff = kd::chainHandoffFromId(c.value(QStringLiteral("handoff")).trimmed());
        if (!handoff) {
            err(QStringLiteral("--handoff is kernel_sources or dataset"));
            return std::nullopt;
        }
        spec.handoff = *handoff;
    }
    spec.checkpointPattern = c.isSet(QStringLiteral("checkpoint"))
                                 ? c.value(QStringLiteral("checkpoint"))
                                 : QStringLiteral("*");
    const auto number = [&c](const QString &option, int &target) {
        if (!c.isSet(option))
            return true;
        bool ok = false;
        target = c.value(option).toInt(&ok);
        if (!ok)
            err(QStringLiteral("--%1 needs a whole number").arg(option));
        return ok;
    };
    if (!number(QStringLiteral("max-runs"), spec.rules.maxRuns) ||
        !number(QStringLiteral("patience"), spec.rules.patience))
        return std::nullopt;
    spec.rules.metric = c.value(QStringLiteral("metric")).trimmed();
    if (c.isSet(QStringLiteral("patience")) && spec.rules.metric.isEmpty()) {
        err(QStringLiteral("--patience goes with --metric NAME"));
        return std::nullopt;
    }
    if (!spec.rules.metric.isEmpty() && !c.isSet(QStringLiteral("patience")))
        spec.rules.patience = 1;
    spec.rules.quotaRule = !c.isSet(QStringLiteral("no-quota-rule"));
    return spec;
}

int create(Context &c, kd::Deck &deck, const kd::ChainSpec &spec)
{
    const auto id = deck.chains()->create(spec);
    if (!id) {
        err(QStringLiteral("the chain cannot be created:"));
        const QStringList details =
            id.error().details.isEmpty() ? QStringList{id.error().message} : id.error().details;
        for (const QString &d : details)
            info(d);
        return exitFor(id.error());
    }
    Q_UNUSED(c);
    out(QStringLiteral("Created chain %1 (%2) on %3; start it with: kaggledeck-cli chain start %1")
            .arg(*id)
            .arg(spec.name, spec.kernel.toString()));
    return Ok;
}

} // namespace

int runChain(Context &c)
{
    const QStringList &args = c.args();
    if (args.isEmpty()) {
        err(QStringLiteral("chain needs an action: list, show, create, start, pause, resume, "
                           "abort or watch"));
        return Usage;
    }
    const QString action = args.first();
    static const QStringList withId = {QStringLiteral("show"),  QStringLiteral("start"),
                                       QStringLiteral("pause"), QStringLiteral("resume"),
                                       QStringLiteral("abort"), QStringLiteral("watch")};
    const bool needsId = withId.contains(action);
    if (!needsId && action != u"list" && action != u"create") {
        err(QStringLiteral("unknown chain action: %1").arg(action));
        return Usage;
    }
    if (args.size() != (needsId ? 2 : 1)) {
        err(needsId ? QStringLiteral("chain %1 needs one chain id").arg(action)
                    : QStringLiteral("chain %1 takes no argument").arg(action));
        return Usage;
    }
    if (action != u"create") {
        for (const QString &o : kCreateOptions) {
            if (c.isSet(o)) {
                err(QStringLiteral("--%1 goes with chain create").arg(o));
                return Usage;
            }
        }
    }
    kd::ChainId id = 0;
    if (needsId) {
        bool ok = false;
        id = args.at(1).toLongLong(&ok);
        if (!ok || id <= 0) {
            err(QStringLiteral("not a chain id: %1").arg(args.at(1)));
            return Usage;
        }
    }
    std::optional<kd::ChainSpec> spec;
    if (action == u"create") {
        spec = specFrom(c);
        if (!spec)
            return Usage;
    }

    kd::Store *store = c.store();
    if (!store)
        return Failed;
    kd::Deck::Settings settings;
    settings.monitor = Context::monitorSettings(action == u"watch");
    kd::Deck deck(c.client(), store, c.dataDir(), settings);
    kd::ChainRunner *chains = deck.chains();

    if (action == u"list") {
        const QList<kd::ChainId> ids = chains->chainIds();
        if (ids.isEmpty())
            info(QStringLiteral("No chains."));
        for (kd::ChainId chainId : ids) {
            const auto chain = chains->chain(chainId);
            out(QStringLiteral("%1\t%2\t%3\t%4 steps\t%5")
                    .arg(chainId)
                    .arg(kd::ChainRunner::stateId(chain->state), chain->record.kernel.toString())
                    .arg(chain->steps.size())
                    .arg(chain->record.name));
        }
        return Ok;
    }
    if (action == u"show")
        return show(*chains, id);
    if (action == u"create") {
        if (deck.monitor()->runByRef(spec->kernel))
            return create(c, deck, *spec);
        // Not watched yet: check the kernel on Kaggle (and get its title) before watching it.
        c.authenticate([&c, &deck, &spec] {
            c.client()->getKernel(spec->kernel, c.app(), [&](kd::Result<kd::KernelPull> r) {
                if (!r) {
                    printError(r.error());
                    info(QStringLiteral("No chain was created."));
                    return c.finish(exitFor(r.error()));
                }
                const QString title =
                    r->metadata.title.isEmpty() ? spec->kernel.slug : r->metadata.title;
                if (auto w = deck.monitor()->watch(spec->kernel.toString(), title); !w) {
                    printError(w.error());
                    return c.finish(Failed);
                }
                c.finish(create(c, deck, *spec));
            });
        });
        return c.exec();
    }

    if (!chains->chain(id)) {
        err(QStringLiteral("no chain %1").arg(id));
        return NotFound;
    }
    if (action == u"pause" || action == u"abort") {
        const auto r = action == u"pause" ? chains->pause(id) : chains->abort(id);
        if (!r) {
            printError(r.error());
            return exitFor(r.error());
        }
        out(stateLine(*chains, id));
        if (!settled(chains->state(id)))
            info(QStringLiteral("The current step finishes first. ") + kAutopilotHint.arg(id));
        return Ok;
    }

    QObject::connect(chains, &kd::ChainRunner::logged, c.app(),
                     [id, action](kd::ChainId chain, const QString &text) {
                         if (chain != id)
                             return;
                         const QString line =
                             QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss  ")) +
                             text;
                         if (action == u"watch")
                             out(line);
                         else
                             info(line);
                     });

    if (action == u"start" || action == u"resume") {
        c.authenticate([&c, chains, id, action] {
            const auto r = action == u"start" ? chains->start(id) : chains->resume(id);
            if (!r)
                return c.fail(r.error());
            // Return once the step is committed (or queued, or the chain stopped).
            const auto check = [&c, chains, id] {
                const State s = chains->state(id);
                if (s == State::Committing || s == State::HandingOff)
                    return;
                out(stateLine(*chains, id));
                if (!settled(s))
                    info(kAutopilotHint.arg(id));
                c.finish(s == State::Stopped ? Failed : Ok);
            };
            QObject::connect(chains, &kd::ChainRunner::stateChanged, c.app(),
                             [check, id](kd::ChainId chain, State, const QString &) {
                                 if (chain == id)
                                     check();
                             });
            check();
        });
        return c.exec();
    }

    // watch
    const State s = chains->state(id);
    if (s == State::Idle) {
        err(QStringLiteral("chain %1 has not been started: kaggledeck-cli chain start %1").arg(id));
        return Usage;
    }
    const auto settledCode = [chains, id] {
        return chains->state(id) == State::Stopped ? Failed : Ok;
    };
    if (settled(s)) {
        out(stateLine(*chains, id));
        return settledCode();
    }
    c.authenticate([&c, &deck, chains, id, settledCode] {
        out(stateLine(*chains, id));
        QObject::connect(
            chains, &kd::ChainRunner::stateChanged, c.app(),
            [&c, chains, id, settledCode](kd::ChainId chain, State state, const QString &) {
                if (chain != id || !settled(state))
                    return;
                out(stateLine(*chains, id));
                c.finish(settledCode());
            });
        deck.start();
    });
    return c.exec();
}

} // namespace kdcli
