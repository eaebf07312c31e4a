"""The words of the requester's pages (survey, answers) in English and French.

Tone: the requester lost time to a failure; every page says we know it and says what
happens next. Placeholders use ``str.format`` names; the templates escape the results.
"""

from __future__ import annotations

from collections.abc import Mapping

_EN: dict[str, str] = {
    "page_title": "How did we do? {number}",
    "heading": "How did we handle {number}?",
    "intro": (
        "An IT problem takes time you had planned for something else. Tell us how much of it "
        "we gave back, and where we made it worse: it takes a minute, and a person on the "
        "service desk reads every answer."
    ),
    "ticket_label": "Your ticket",
    "ticket_line": "{number}: {title}",
    "rating_legend": "How satisfied are you with the way we handled it?",
    "rating_1": "1, very dissatisfied",
    "rating_2": "2, dissatisfied",
    "rating_3": "3, neither satisfied nor dissatisfied",
    "rating_4": "4, satisfied",
    "rating_5": "5, very satisfied",
    "resolved_legend": "Is your issue resolved?",
    "resolved_yes": "Yes, it is resolved",
    "resolved_no": "No, it is not resolved",
    "comment_label": "What should we know? (optional)",
    "comment_hint": "At most {max} characters. What cost you the most time?",
    "next_heading": "What happens next",
    "next_not_resolved": (
        "If your issue is not resolved, we reopen the ticket as soon as you send this, and an "
        "agent picks it up again: no need to open a new one."
    ),
    "next_negative": (
        "If we let you down, the service desk manager reads your answer and follows up."
    ),
    "expires": "This link takes one answer, until {date}.",
    "submit": "Send my answer",
    "errors_heading": "Please check your answer",
    "error_rating": "Choose a rating from 1 to 5.",
    "error_resolved": "Tell us whether your issue is resolved.",
    "error_comment": "Keep the comment to {max} characters (it has {length}).",
    "thanks_title": "Thank you: {number}",
    "thanks_heading": "Thank you for your answer",
    "thanks_positive": (
        "Your answer is recorded. Thank you for giving us this minute on top of the time the "
        "issue already took."
    ),
    "thanks_negative": (
        "We are sorry we let you down. The service desk manager has been told and will look "
        "at what went wrong on {number}; they may contact you."
    ),
    "thanks_reopened": (
        "We have reopened {number}. An agent will pick it up again and contact you; you do "
        "not need to open a new ticket."
    ),
    "not_found_title": "Survey not found",
    "not_found_heading": "We could not find this survey",
    "not_found_body": (
        "The link may be incomplete: copy the whole address from the e-mail into your "
        "browser. If your issue still needs attention, contact the service desk."
    ),
    "expired_title": "Survey closed",
    "expired_heading": "This survey has closed",
    "expired_body": (
        "It took answers until {date}. If your issue with {number} is still not resolved, "
        "contact the service desk and mention {number}: we will pick it up again."
    ),
    "answered_title": "Already answered",
    "answered_heading": "You have already answered this survey",
    "answered_body": (
        "We recorded your answer on {date}, and a survey takes one answer, so this one was "
        "not stored. If something changed on {number}, contact the service desk."
    ),
    "refused_title": "Answer not accepted",
    "refused_heading": "We could not accept this form",
    "refused_body": (
        "For your safety we only accept answers sent from the survey page itself. Open the "
        "link from the e-mail again and send the form from there."
    ),
    "too_large_title": "Answer too long",
    "too_large_heading": "Your answer is too long",
    "too_large_body": "Go back, shorten the comment and send it again.",
    # -- answer pages (/a/{token}) --
    "answer_agent": "the agent",
    "answer_page_title": "Your answer: {number}",
    "answer_heading_user_validation": "Does it work now?",
    "answer_heading_info_requested": "We need information from you",
    "answer_heading_user_response": "We are waiting for your reply",
    "answer_intro_user_validation": (
        "We believe the problem is fixed, and only you can tell us for sure. While we wait "
        "for your answer, the clock on our target for this ticket is stopped: take the time "
        "to check."
    ),
    "answer_intro_info_requested": (
        "To go on with your ticket we need something only you can tell us. While we wait for "
        "your answer, the clock on our target for this ticket is stopped."
    ),
    "answer_intro_user_response": (
        "The next step on your ticket is yours. While we wait for your reply, the clock on "
        "our target for this ticket is stopped."
    ),
    "answer_question_heading": "What {agent} asked you on {date}",
    "answer_no_question": "No question was written down: tell us where things stand for you.",
    "answer_legend": "Does it work now?",
    "answer_yes": "Yes, it works",
    "answer_no": "No, it still fails",
    "answer_comment_optional": "Anything to add? (optional)",
    "answer_comment_label": "Your answer",
    "answer_comment_hint": "At most {max} characters.",
    "answer_next_yes": "If it works, we resolve {number} as soon as you send this.",
    "answer_next_no": (
        "If it still fails, the ticket goes straight back to {agent} and the clock on our "
        "target restarts."
    ),
    "answer_next_comment": (
        "Your answer goes straight to {agent}, and the clock on our target restarts."
    ),
    "answer_by_mail": "You can also answer by replying to our email.",
    "error_answer": "Tell us whether it works now.",
    "error_answer_comment_required": "Write your answer.",
    "error_answer_comment": "Keep your answer to {max} characters (it has {length}).",
    "answer_thanks_heading": "Thank you, we have your answer",
    "answer_thanks_heading_confirmed": "Thank you: your ticket is resolved",
    "answer_thanks_confirmed": "You confirmed that it works, so we have resolved {number}.",
    "answer_thanks_confirmed_next": (
        "There is nothing more to do. You may get a one-minute survey about how we handled "
        "it. If the problem comes back, contact the service desk and mention {number}."
    ),
    "answer_thanks_sent": "Your answer is on its way to {agent}, who has the ticket back.",
    "answer_thanks_clock": (
        "The clock on our target for this ticket, stopped while we waited for you, runs "
        "again from now."
    ),
    "answer_thanks_next": (
        "You will hear from us by email. To add something, reply to our latest email about "
        "the ticket."
    ),
    "answer_not_found_title": "Page not found",
    "answer_not_found_heading": "We could not find this page",
    "answer_not_found_body": (
        "The link may be incomplete: copy the whole address from the email into your "
        "browser. If the email only just arrived, wait a minute and reload the page. You "
        "can also answer by replying to the email."
    ),
    "answer_pending_title": "One moment",
    "answer_pending_heading": "This page is not ready yet",
    "answer_pending_body": (
        "We are still recording the question on {number}. Wait a minute and reload the page; "
        "you can also answer by replying to the email."
    ),
    "answer_refused_title": "Answer not accepted",
    "answer_refused_heading": "We could not accept this form",
    "answer_refused_body": (
        "For your safety we only accept answers sent from the answer page itself. Open the "
        "link from the email again and send the form from there."
    ),
    "answer_answered_here_title": "Already answered",
    "answer_answered_here_heading": "You have already answered",
    "answer_answered_here_body": (
        "We received your answer on {date}, and {number} is back with the service desk. "
        "This page takes one answer; to add something, reply to our latest email about the "
        "ticket."
    ),
    "answer_confirmed_here_title": "Already confirmed",
    "answer_confirmed_here_heading": "You have already confirmed the fix",
    "answer_confirmed_here_body": (
        "You told us on {date} that it works, so we resolved {number}. If the problem comes "
        "back, contact the service desk and mention {number}."
    ),
    "answer_answered_title": "Already answered",
    "answer_answered_heading": "We already have your answer",
    "answer_answered_body": (
        "Your answer reached us on {date} and {number} is back with the service desk, so "
        "this question is closed. To add something, reply to our latest email about the "
        "ticket."
    ),
    "answer_confirmed_title": "Ticket resolved",
    "answer_confirmed_heading": "This ticket was resolved on {date}",
    "answer_confirmed_body": (
        "You confirmed that it works, so {number} was resolved on {date}. If the problem "
        "comes back, contact the service desk and mention {number}."
    ),
    "answer_resolved_title": "Ticket resolved",
    "answer_resolved_heading": "This ticket was resolved on {date}",
    "answer_resolved_body": (
        "The service desk resolved {number} on {date}, so this question needs no answer any "
        "more. If the problem is still there, contact the service desk and mention {number}."
    ),
    "answer_no_response_title": "Ticket resolved",
    "answer_no_response_heading": "This ticket was closed without your answer",
    "answer_no_response_body": (
        "We had no answer by {date}, so {number} was resolved for lack of response. If you "
        "still need help, reply to our latest email about it: that reopens the ticket."
    ),
    "answer_cancelled_title": "Ticket cancelled",
    "answer_cancelled_heading": "This ticket was cancelled on {date}",
    "answer_cancelled_body": (
        "The ticket {number} was cancelled on {date}, so this question needs no answer any "
        "more. If you still need help, contact the service desk."
    ),
    "answer_resumed_title": "No answer needed",
    "answer_resumed_heading": "The service desk picked up your ticket again",
    "answer_resumed_body": (
        "On {date} the service desk went on with {number} without waiting for your answer, "
        "so this question is closed. To add something, reply to our latest email about the "
        "ticket."
    ),
    "answer_superseded_title": "A newer question",
    "answer_superseded_heading": "This link is for an earlier question",
    "answer_superseded_body": (
        "The service desk has asked you something more recent about {number}. Please answer "
        "from the link in our latest email about it, or reply to that email."
    ),
    "answer_over_title": "Question closed",
    "answer_over_heading": "This question is closed",
    "answer_over_body": (
        "The ticket {number} no longer waits for an answer to this question. Our latest "
        "email about it says where it stands."
    ),
}

_FR: dict[str, str] = {
    "page_title": "Votre avis : {number}",
    "heading": "Comment avons-nous traité {number} ?",
    "intro": (
        "Un problème informatique vous prend du temps prévu pour autre chose. Dites-nous "
        "combien nous vous en avons rendu, et où nous avons aggravé les choses : cela prend "
        "une minute, et une personne du centre de services lit chaque réponse."
    ),
    "ticket_label": "Votre ticket",
    "ticket_line": "{number} : {title}",
    "rating_legend": "Êtes-vous satisfait de la façon dont nous l'avons traité ?",
    "rating_1": "1, très insatisfait",
    "rating_2": "2, insatisfait",
    "rating_3": "3, ni satisfait ni insatisfait",
    "rating_4": "4, satisfait",
    "rating_5": "5, très satisfait",
    "resolved_legend": "Votre problème est-il résolu ?",
    "resolved_yes": "Oui, il est résolu",
    "resolved_no": "Non, il n'est pas résolu",
    "comment_label": "Que devrions-nous savoir ? (facultatif)",
    "comment_hint": "{max} caractères au plus. Qu'est-ce qui vous a coûté le plus de temps ?",
    "next_heading": "Et ensuite",
    "next_not_resolved": (
        "Si votre problème n'est pas résolu, nous rouvrons le ticket dès l'envoi de ce "
        "formulaire et un agent le reprend : inutile d'en ouvrir un nouveau."
    ),
    "next_negative": (
        "Si nous vous avons déçu, le responsable du centre de services lit votre réponse et "
        "revient vers vous."
    ),
    "expires": "Ce lien accepte une seule réponse, jusqu'au {date}.",
    "submit": "Envoyer ma réponse",
    "errors_heading": "Merci de vérifier votre réponse",
    "error_rating": "Choisissez une note de 1 à 5.",
    "error_resolved": "Dites-nous si votre problème est résolu.",
    "error_comment": "Le commentaire doit faire {max} caractères au plus (il en a {length}).",
    "thanks_title": "Merci : {number}",
    "thanks_heading": "Merci pour votre réponse",
    "thanks_positive": (
        "Votre réponse est enregistrée. Merci de nous avoir accordé cette minute, en plus du "
        "temps que le problème vous a déjà pris."
    ),
    "thanks_negative": (
        "Nous sommes désolés de vous avoir déçu. Le responsable du centre de services est "
        "prévenu et va examiner ce qui n'a pas fonctionné sur {number} ; il pourra vous "
        "contacter."
    ),
    "thanks_reopened": (
        "Nous avons rouvert {number}. Un agent le reprend et vous contactera ; inutile "
        "d'ouvrir un nouveau ticket."
    ),
    "not_found_title": "Enquête introuvable",
    "not_found_heading": "Nous ne trouvons pas cette enquête",
    "not_found_body": (
        "Le lien est peut-être incomplet : copiez l'adresse entière depuis l'e-mail dans "
        "votre navigateur. Si votre problème demande encore notre attention, contactez le "
        "centre de services."
    ),
    "expired_title": "Enquête close",
    "expired_heading": "Cette enquête est close",
    "expired_body": (
        "Elle acceptait les réponses jusqu'au {date}. Si votre problème sur {number} n'est "
        "toujours pas résolu, contactez le centre de services en citant {number} : nous le "
        "reprendrons."
    ),
    "answered_title": "Déjà répondu",
    "answered_heading": "Vous avez déjà répondu à cette enquête",
    "answered_body": (
        "Nous avons enregistré votre réponse le {date} ; une enquête n'accepte qu'une "
        "réponse, celle-ci n'a donc pas été enregistrée. Si quelque chose a changé sur "
        "{number}, contactez le centre de services."
    ),
    "refused_title": "Réponse refusée",
    "refused_heading": "Nous ne pouvons pas accepter ce formulaire",
    "refused_body": (
        "Pour votre sécurité, nous n'acceptons que les réponses envoyées depuis la page de "
        "l'enquête. Rouvrez le lien de l'e-mail et envoyez le formulaire depuis cette page."
    ),
    "too_large_title": "Réponse trop longue",
    "too_large_heading": "Votre réponse est trop longue",
    "too_large_body": "Revenez en arrière, raccourcissez le commentaire et renvoyez-le.",
    # -- pages de réponse (/a/{token}) --
    "answer_agent": "l'agent",
    "answer_page_title": "Votre réponse : {number}",
    "answer_heading_user_validation": "Est-ce que cela fonctionne maintenant ?",
    "answer_heading_info_requested": "Nous avons besoin d'informations de votre part",
    "answer_heading_user_response": "Nous attendons votre réponse",
    "answer_intro_user_validation": (
        "Nous pensons que le problème est corrigé, et vous seul pouvez nous le confirmer. "
        "Tant que nous attendons votre réponse, le chronomètre de notre engagement pour ce "
        "ticket est arrêté : prenez le temps de vérifier."
    ),
    "answer_intro_info_requested": (
        "Pour avancer sur votre ticket, nous avons besoin d'une information que vous seul "
        "pouvez nous donner. Tant que nous attendons votre réponse, le chronomètre de notre "
        "engagement pour ce ticket est arrêté."
    ),
    "answer_intro_user_response": (
        "La prochaine étape de votre ticket vous revient. Tant que nous attendons votre "
        "réponse, le chronomètre de notre engagement pour ce ticket est arrêté."
    ),
    "answer_question_heading": "Ce que {agent} vous a demandé le {date}",
    "answer_no_question": (
        "Aucune question n'a été écrite : dites-nous où en sont les choses de votre côté."
    ),
    "answer_legend": "Est-ce que cela fonctionne maintenant ?",
    "answer_yes": "Oui, cela fonctionne",
    "answer_no": "Non, le problème persiste",
    "answer_comment_optional": "Quelque chose à ajouter ? (facultatif)",
    "answer_comment_label": "Votre réponse",
    "answer_comment_hint": "{max} caractères au plus.",
    "answer_next_yes": "Si cela fonctionne, nous résolvons {number} dès l'envoi de ce formulaire.",
    "answer_next_no": (
        "Si le problème persiste, le ticket revient aussitôt à {agent} et le chronomètre de "
        "notre engagement repart."
    ),
    "answer_next_comment": (
        "Votre réponse part aussitôt à {agent}, et le chronomètre de notre engagement repart."
    ),
    "answer_by_mail": "Vous pouvez aussi répondre simplement à notre e-mail.",
    "error_answer": "Dites-nous si cela fonctionne maintenant.",
    "error_answer_comment_required": "Écrivez votre réponse.",
    "error_answer_comment": "La réponse doit faire {max} caractères au plus (elle en a {length}).",
    "answer_thanks_heading": "Merci, nous avons votre réponse",
    "answer_thanks_heading_confirmed": "Merci : votre ticket est résolu",
    "answer_thanks_confirmed": (
        "Vous avez confirmé que cela fonctionne : nous avons donc résolu {number}."
    ),
    "answer_thanks_confirmed_next": (
        "Vous n'avez plus rien à faire. Vous recevrez peut-être une courte enquête sur notre "
        "façon de le traiter. Si le problème revient, contactez le centre de services en "
        "citant {number}."
    ),
    "answer_thanks_sent": "Votre réponse part à {agent}, qui reprend le ticket.",
    "answer_thanks_clock": (
        "Le chronomètre de notre engagement pour ce ticket, arrêté pendant que nous vous "
        "attendions, repart dès maintenant."
    ),
    "answer_thanks_next": (
        "Nous vous tiendrons au courant par e-mail. Pour ajouter quelque chose, répondez à "
        "notre dernier e-mail sur ce ticket."
    ),
    "answer_not_found_title": "Page introuvable",
    "answer_not_found_heading": "Nous ne trouvons pas cette page",
    "answer_not_found_body": (
        "Le lien est peut-être incomplet : copiez l'adresse entière depuis l'e-mail dans "
        "votre navigateur. Si l'e-mail vient d'arriver, attendez une minute puis rechargez "
        "la page. Vous pouvez aussi répondre simplement à l'e-mail."
    ),
    "answer_pending_title": "Un instant",
    "answer_pending_heading": "Cette page n'est pas encore prête",
    "answer_pending_body": (
        "Nous enregistrons encore la question sur {number}. Attendez une minute puis "
        "rechargez la page ; vous pouvez aussi répondre simplement à l'e-mail."
    ),
    "answer_refused_title": "Réponse refusée",
    "answer_refused_heading": "Nous ne pouvons pas accepter ce formulaire",
    "answer_refused_body": (
        "Pour votre sécurité, nous n'acceptons que les réponses envoyées depuis la page de "
        "réponse elle-même. Rouvrez le lien de l'e-mail et envoyez le formulaire depuis "
        "cette page."
    ),
    "answer_answered_here_title": "Déjà répondu",
    "answer_answered_here_heading": "Vous avez déjà répondu",
    "answer_answered_here_body": (
        "Nous avons reçu votre réponse le {date}, et {number} est de retour au centre de "
        "services. Cette page n'accepte qu'une réponse ; pour ajouter quelque chose, "
        "répondez à notre dernier e-mail sur ce ticket."
    ),
    "answer_confirmed_here_title": "Déjà confirmé",
    "answer_confirmed_here_heading": "Vous avez déjà confirmé la correction",
    "answer_confirmed_here_body": (
        "Vous nous avez dit le {date} que cela fonctionne : nous avons donc résolu {number}. "
        "Si le problème revient, contactez le centre de services en citant {number}."
    ),
    "answer_answered_title": "Déjà répondu",
    "answer_answered_heading": "Nous avons déjà votre réponse",
    "answer_answered_body": (
        "Votre réponse nous est parvenue le {date} et {number} est de retour au centre de "
        "services : cette question est donc close. Pour ajouter quelque chose, répondez à "
        "notre dernier e-mail sur ce ticket."
    ),
    "answer_confirmed_title": "Ticket résolu",
    "answer_confirmed_heading": "Ce ticket a été résolu le {date}",
    "answer_confirmed_body": (
        "Vous avez confirmé que cela fonctionne : {number} a donc été résolu le {date}. Si "
        "le problème revient, contactez le centre de services en citant {number}."
    ),
    "answer_resolved_title": "Ticket résolu",
    "answer_resolved_heading": "Ce ticket a été résolu le {date}",
    "answer_resolved_body": (
        "Le centre de services a résolu {number} le {date} : cette question n'attend donc "
        "plus de réponse. Si le problème persiste, contactez le centre de services en citant "
        "{number}."
    ),
    "answer_no_response_title": "Ticket résolu",
    "answer_no_response_heading": "Ce ticket a été clos sans votre réponse",
    "answer_no_response_body": (
        "Sans réponse de votre part au {date}, {number} a été résolu faute de réponse. Si "
        "vous avez encore besoin d'aide, répondez à notre dernier e-mail à son sujet : cela "
        "rouvre le ticket."
    ),
    "answer_cancelled_title": "Ticket annulé",
    "answer_cancelled_heading": "Ce ticket a été annulé le {date}",
    "answer_cancelled_body": (
        "Le ticket {number} a été annulé le {date} : cette question n'attend donc plus de "
        "réponse. Si vous avez encore besoin d'aide, contactez le centre de services."
    ),
    "answer_resumed_title": "Plus besoin de répondre",
    "answer_resumed_heading": "Le centre de services a repris votre ticket",
    "answer_resumed_body": (
        "Le {date}, le centre de services a poursuivi {number} sans attendre votre réponse : "
        "cette question est donc close. Pour ajouter quelque chose, répondez à notre dernier "
        "e-mail sur ce ticket."
    ),
    "answer_superseded_title": "Une question plus récente",
    "answer_superseded_heading": "Ce lien concerne une question précédente",
    "answer_superseded_body": (
        "Le centre de services vous a posé une question plus récente sur {number}. Répondez "
        "depuis le lien de notre dernier e-mail à son sujet, ou répondez à cet e-mail."
    ),
    "answer_over_title": "Question close",
    "answer_over_heading": "Cette question est close",
    "answer_over_body": (
        "Le ticket {number} n'attend plus de réponse à cette question. Notre dernier e-mail "
        "à son sujet indique où il en est."
    ),
}

WORDS: Mapping[str, Mapping[str, str]] = {"en": _EN, "fr": _FR}
