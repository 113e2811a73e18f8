#include "apierrortext.h"

#include <QCoreApplication>

namespace kd {

namespace {
QString tr(const char *text)
{
    return QCoreApplication::translate("ApiErrorText", text);
}
} // namespace

QString apiErrorText(const ApiError &error, const QString &subject)
{
    switch (error.kind) {
    case ApiError::Kind::NotFound:
        // Kaggle answers 403 and 404 alike for deleted, renamed and other people's private kernels.
        return tr("Kaggle does not show %1 to this account: it was deleted or renamed, or it is "
                  "private to another account.")
            .arg(subject);
    case ApiError::Kind::Auth:
        return tr("Kaggle rejected the credentials. Check the API key or token in Settings.");
    case ApiError::Kind::RateLimited:
        return tr("Kaggle is limiting the request rate. Try again in a minute.");
    case ApiError::Kind::Server:
        return error.httpStatus > 0 ? tr("Kaggle had a server error (HTTP %1). Try again later.")
                                          .arg(error.httpStatus)
                                    : tr("Kaggle had a server error. Try again later.");
    case ApiError::Kind::Network:
        return tr("Cannot reach Kaggle: %1").arg(error.message);
    case ApiError::Kind::Timeout:
        return tr("Kaggle did not answer in time. Try again later.");
    case ApiError::Kind::Protocol:
        return tr("Kaggle sent an answer KaggleDeck does not understand: %1").arg(error.message);
    case ApiError::Kind::Cancelled:
        return tr("The request was cancelled.");
    case ApiError::Kind::Application:
    case ApiError::Kind::Io:
    case ApiError::Kind::Invalid:
        break;
    }
    return error.message;
}

} // namespace kd
