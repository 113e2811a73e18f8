// persistence REF [MODE]: the mode stored in the watched run's settings, as the app's dialog.

#include "cli.h"

#include "kaggleclient.h"
#include "persistence.h"
#include "store.h"

namespace kdcli {

namespace {

void describe(const kd::KernelRef &ref, kd::PersistenceMode mode, const QString &what)
{
    out(QStringLiteral("%1: %2 (%3)%4")
            .arg(ref.toString(), kd::persistence::id(mode), kd::persistence::label(mode), what));
    out(QStringLiteral("Committed runs: ") + kd::persistence::committedRunEffect(mode));
    out(QStringLiteral("Kaggle: ") + kd::persistence::kaggleNotice());
}

QStringList modeIds()
{
    QStringList ids;
    for (kd::PersistenceMode m : kd::persistence::allModes())
        ids << kd::persistence::id(m);
    return ids;
}

int apply(kd::RunMonitor &monitor, kd::RunId run, kd::PersistenceMode mode)
{
    const kd::RunState *state = monitor.state(run);
    kd::RunSettings settings = state->run.settings;
    settings.persistence = kd::persistence::id(mode);
    if (auto r = monitor.setRunSettings(run, settings); !r) {
        err(QStringLiteral("the mode could not be stored: %1").arg(r.error().message));
        return Failed;
    }
    describe(state->run.ref, mode, QStringLiteral(" is set"));
    return Ok;
}

} // namespace

int runPersistence(Context &c)
{
    if (c.args().isEmpty() || c.args().size() > 2) {
        err(QStringLiteral("persistence needs a kernel (owner/slug) and optionally a mode"));
        return Usage;
    }
    const auto ref = kd::KernelRef::parse(c.args().first());
    if (!ref) {
        err(QStringLiteral("not a kernel reference: %1 (expected owner/slug)")
                .arg(c.args().first()));
        return Usage;
    }
    std::optional<kd::PersistenceMode> mode;
    if (c.args().size() == 2) {
        QString id = c.args().at(1).trimmed().toLower();
        id.replace(u'-', u'_');
        mode = id.isEmpty() ? std::nullopt : kd::persistence::fromId(id);
        if (!mode) {
            err(QStringLiteral("unknown persistence mode: %1 (use one of %2)")
                    .arg(c.args().at(1), modeIds().join(QStringLiteral(", "))));
            return Usage;
        }
    }
    kd::Store *store = c.store();
    if (!store)
        return Failed;
    kd::RunMonitor monitor(c.client(), store, Context::monitorSettings(false));
    const auto run = monitor.runByRef(*ref);
    if (!mode) {
        if (!run) {
            describe(*ref, kd::PersistenceMode::None,
                     QStringLiteral(": not watched by KaggleDeck, so nothing is set"));
            return Ok;
        }
        describe(*ref, kd::persistence::modeOf(monitor.state(*run)->run.settings), QString());
        return Ok;
    }
    if (run)
        return apply(monitor, *run, *mode);

    // Not watched yet: check that the kernel exists (and get its title), then watch it.
    c.authenticate([&c, &monitor, ref = *ref, mode = *mode] {
        c.client()->getKernel(
            ref, c.app(), [&c, &monitor, ref, mode](kd::Result<kd::KernelPull> r) {
                if (!r) {
                    printError(r.error());
                    info(QStringLiteral("Nothing was stored."));
                    return c.finish(exitFor(r.error()));
                }
                const QString title = r->metadata.title.isEmpty() ? ref.slug : r->metadata.title;
                const auto id = monitor.watch(ref.toString(), title);
                if (!id) {
                    err(QStringLiteral("%1 could not be watched: %2")
                            .arg(ref.toString(), id.error().message));
                    return c.finish(Failed);
                }
                info(QStringLiteral("%1 is now watched by KaggleDeck.").arg(ref.toString()));
                c.finish(apply(monitor, *id, mode));
            });
    });
    return c.exec();
}

} // namespace kdcli
